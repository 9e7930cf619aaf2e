/* lt_conf — table-driven ini configuration.
 *
 * Each program describes its options once in a table (section, name, type,
 * default, doc). The same table sets defaults, validates the file, applies
 * `-o section.key=value` overrides and prints the reference in --help.
 * Sections listed as pass-through (e.g. [kafka]) are kept as key/value pairs
 * and handed unchanged to librdkafka. Errors read "file:line: message". */
#ifndef LT_CONF_H
#define LT_CONF_H

#include <stddef.h>
#include <stdio.h>

typedef enum { LT_CONF_STR, LT_CONF_INT, LT_CONF_BOOL } lt_conf_type_t;

typedef struct lt_conf_opt {
    const char *section;
    const char *name;
    lt_conf_type_t type;
    const char *def; /* default as text; NULL = no default (string stays NULL) */
    size_t offset;   /* where the value lives in the program's config struct */
    long min, max;   /* bounds for LT_CONF_INT */
    const char *doc;
} lt_conf_opt_t;

/* Ordered key/value pairs of one pass-through section. */
typedef struct lt_conf_kv {
    char **keys;
    char **values;
    size_t count;
} lt_conf_kv_t;

typedef struct lt_conf {
    const lt_conf_opt_t *table; /* terminated by an entry with name == NULL */
    void *dst;                  /* the program's config struct */
    lt_conf_kv_t kafka;         /* the [kafka] section */
    int without_kafka;          /* the program talks to no Kafka: no [kafka] section */
    const char *path;           /* the file read (set by lt_conf_load_file), or NULL */
} lt_conf_t;

/* Apply the table's defaults to conf->dst. Returns 0 or -1 on a bad default. */
int lt_conf_defaults(lt_conf_t *conf, char *errstr, size_t errstr_size);

/* Read an ini file over the current values. Unknown sections and keys are errors. */
int lt_conf_load_file(lt_conf_t *conf, const char *path, char *errstr, size_t errstr_size);

/* Read the file conf->path again, checking all of it, and copy the value of
 * one text option into out. The running configuration is not touched.
 * Returns 0, or -1 with errstr as "file:line: message". */
int lt_conf_reread(const lt_conf_t *conf, const char *section, const char *name, char *out,
                   size_t out_size, char *errstr, size_t errstr_size);

/* SIGHUP: set the log level from the "log_level" option of the table's first
 * section, read again from the file. Returns 0, or -1 with errstr. */
int lt_conf_reload_log_level(const lt_conf_t *conf, char *errstr, size_t errstr_size);

/* Set one "section.key=value" (a command-line override). */
int lt_conf_set_arg(lt_conf_t *conf, const char *arg, char *errstr, size_t errstr_size);

/* Set one value; `where` prefixes errors (e.g. "agent.ini:12"). */
int lt_conf_set(lt_conf_t *conf, const char *section, const char *key, const char *value,
                const char *where, char *errstr, size_t errstr_size);

/* Print the option reference (used by --help). */
void lt_conf_print_reference(const lt_conf_t *conf, FILE *out);

/* Print the same reference as man(7) roff: one .SS per section, one .TP per
 * option (used by --help-man, which the build turns into the man pages). */
void lt_conf_print_man(const lt_conf_t *conf, FILE *out);

/* Write len bytes of plain text as roff: backslashes and leading dots
 * escaped, a '-' that starts a word as a minus sign, other than ASCII as
 * \[uXXXX]. The text should start a line of out. */
void lt_conf_man_text(FILE *out, const char *text, size_t len);

/* Free strings owned by conf->dst and the kafka pairs. */
void lt_conf_destroy(lt_conf_t *conf);

/* Value of a kafka key, or NULL. */
const char *lt_conf_kafka_get(const lt_conf_t *conf, const char *key);

#endif
