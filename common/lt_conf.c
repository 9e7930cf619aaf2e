#include "lt_conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lt_log.h"
#include "lt_util.h"

static const lt_conf_opt_t *lt_conf_find(const lt_conf_t *conf, const char *section,
                                         const char *name)
{
    for (const lt_conf_opt_t *opt = conf->table; opt && opt->name; opt++)
        if (strcmp(opt->section, section) == 0 && strcmp(opt->name, name) == 0)
            return opt;
    return NULL;
}

static int lt_conf_parse_bool(const char *v, int *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
        *out = 1;
    else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
        *out = 0;
    else
        return -1;
    return 0;
}

static int lt_conf_store(lt_conf_t *conf, const lt_conf_opt_t *opt, const char *value,
                         const char *where, char *errstr, size_t errstr_size)
{
    char *field = (char *)conf->dst + opt->offset;
    if (opt->type == LT_CONF_STR) {
        char **slot = (char **)(void *)field;
        free(*slot);
        *slot = value ? strdup(value) : NULL;
        return 0;
    }
    if (opt->type == LT_CONF_BOOL) {
        if (lt_conf_parse_bool(value, (int *)(void *)field) != 0)
            return lt_err(errstr, errstr_size, "%s: %s.%s: expected true or false, got \"%s\"",
                          where, opt->section, opt->name, value);
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end)
        return lt_err(errstr, errstr_size, "%s: %s.%s: expected an integer, got \"%s\"", where,
                      opt->section, opt->name, value);
    if (v < opt->min || v > opt->max)
        return lt_err(errstr, errstr_size, "%s: %s.%s: %ld is outside %ld..%ld", where,
                      opt->section, opt->name, v, opt->min, opt->max);
    *(long *)(void *)field = v;
    return 0;
}

static int lt_conf_kafka_put(lt_conf_kv_t *kv, const char *key, const char *value)
{
    for (size_t i = 0; i < kv->count; i++) {
        if (strcmp(kv->keys[i], key) == 0) {
            free(kv->values[i]);
            kv->values[i] = strdup(value);
            return 0;
        }
    }
    char **keys = realloc(kv->keys, (kv->count + 1) * sizeof(*keys));
    if (!keys)
        return -1;
    kv->keys = keys;
    char **values = realloc(kv->values, (kv->count + 1) * sizeof(*values));
    if (!values)
        return -1;
    kv->values = values;
    kv->keys[kv->count] = strdup(key);
    kv->values[kv->count] = strdup(value);
    kv->count++;
    return 0;
}

int lt_conf_set(lt_conf_t *conf, const char *section, const char *key, const char *value,
                const char *where, char *errstr, size_t errstr_size)
{
    if (strcmp(section, "kafka") == 0 && !conf->without_kafka)
        return lt_conf_kafka_put(&conf->kafka, key, value);
    const lt_conf_opt_t *opt = lt_conf_find(conf, section, key);
    if (!opt)
        return lt_err(errstr, errstr_size, "%s: unknown option %s.%s (see --help)", where,
                      section, key);
    return lt_conf_store(conf, opt, value, where, errstr, errstr_size);
}

int lt_conf_defaults(lt_conf_t *conf, char *errstr, size_t errstr_size)
{
    for (const lt_conf_opt_t *opt = conf->table; opt && opt->name; opt++)
        if (opt->def && lt_conf_store(conf, opt, opt->def, "default", errstr, errstr_size))
            return -1;
    return 0;
}

static char *lt_conf_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static int lt_conf_section_known(const lt_conf_t *conf, const char *section)
{
    if (strcmp(section, "kafka") == 0)
        return !conf->without_kafka;
    for (const lt_conf_opt_t *opt = conf->table; opt && opt->name; opt++)
        if (strcmp(opt->section, section) == 0)
            return 1;
    return 0;
}

static int lt_conf_parse_line(lt_conf_t *conf, char *line, char *section, size_t section_size,
                              const char *where, char *errstr, size_t errstr_size)
{
    char *s = lt_conf_trim(line);
    if (*s == '\0' || *s == '#' || *s == ';')
        return 0;
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (!close || close[1] != '\0')
            return lt_err(errstr, errstr_size, "%s: malformed section header \"%s\"", where, s);
        *close = '\0';
        if (!lt_conf_section_known(conf, s + 1))
            return lt_err(errstr, errstr_size, "%s: unknown section [%s]", where, s + 1);
        lt_strlcpy(section, s + 1, section_size);
        return 0;
    }
    char *eq = strchr(s, '=');
    if (!eq)
        return lt_err(errstr, errstr_size, "%s: expected key = value, got \"%s\"", where, s);
    if (!section[0])
        return lt_err(errstr, errstr_size, "%s: \"%s\" is outside any [section]", where, s);
    *eq = '\0';
    return lt_conf_set(conf, section, lt_conf_trim(s), lt_conf_trim(eq + 1), where, errstr,
                       errstr_size);
}

int lt_conf_load_file(lt_conf_t *conf, const char *path, char *errstr, size_t errstr_size)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return lt_err(errstr, errstr_size, "%s: %s", path, strerror(errno));
    char line[4096], section[64] = "", where[512];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), fp)) {
        lineno++;
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        if (!strchr(line, '\n') && !feof(fp))
            rc = lt_err(errstr, errstr_size, "%s: line longer than %zu bytes", where,
                        sizeof(line) - 2);
        else
            rc = lt_conf_parse_line(conf, line, section, sizeof(section), where, errstr,
                                    errstr_size);
    }
    fclose(fp);
    if (rc == 0)
        conf->path = path;
    return rc;
}

int lt_conf_reread(const lt_conf_t *conf, const char *section, const char *name, char *out,
                   size_t out_size, char *errstr, size_t errstr_size)
{
    const lt_conf_opt_t *want = NULL;
    size_t end = 0;
    for (const lt_conf_opt_t *opt = conf->table; opt && opt->name; opt++) {
        if (opt->offset + 16 > end)
            end = opt->offset + 16; /* room for the widest value type */
        if (strcmp(opt->section, section) == 0 && strcmp(opt->name, name) == 0)
            want = opt;
    }
    if (!want || want->type != LT_CONF_STR)
        return lt_err(errstr, errstr_size, "%s.%s is not a text option", section, name);
    if (!conf->path)
        return lt_err(errstr, errstr_size, "no configuration file was read at start");
    /* The whole file is read and checked into a scratch copy: a mistake
     * anywhere keeps the running configuration. */
    lt_conf_t fresh = {.table = conf->table, .without_kafka = conf->without_kafka};
    fresh.dst = calloc(1, end);
    if (!fresh.dst)
        abort();
    int rc = lt_conf_defaults(&fresh, errstr, errstr_size);
    if (rc == 0)
        rc = lt_conf_load_file(&fresh, conf->path, errstr, errstr_size);
    const char *value = *(char **)(void *)((char *)fresh.dst + want->offset);
    if (rc == 0)
        lt_strlcpy(out, value ? value : "", out_size);
    lt_conf_destroy(&fresh);
    free(fresh.dst);
    return rc;
}

int lt_conf_reload_log_level(const lt_conf_t *conf, char *errstr, size_t errstr_size)
{
    char name[32];
    const char *section = conf->table && conf->table->name ? conf->table->section : "";
    if (lt_conf_reread(conf, section, "log_level", name, sizeof(name), errstr, errstr_size))
        return -1;
    int level = lt_log_level_parse(name);
    if (level < 0)
        return lt_err(errstr, errstr_size, "%s: %s.log_level: unknown level \"%s\"", conf->path,
                      section, name);
    lt_log_level = (lt_log_level_t)level;
    return 0;
}

int lt_conf_set_arg(lt_conf_t *conf, const char *arg, char *errstr, size_t errstr_size)
{
    char buf[1024];
    lt_strlcpy(buf, arg, sizeof(buf));
    char *eq = strchr(buf, '=');
    char *dot = strchr(buf, '.');
    if (!eq || !dot || dot > eq)
        return lt_err(errstr, errstr_size,
                      "-o %s: expected section.key=value, e.g. kafka.bootstrap.servers=host:9092",
                      arg);
    *eq = '\0';
    *dot = '\0';
    if (!lt_conf_section_known(conf, buf))
        return lt_err(errstr, errstr_size, "-o %s: unknown section [%s]", arg, buf);
    return lt_conf_set(conf, buf, dot + 1, eq + 1, "-o", errstr, errstr_size);
}

static const char *const lt_conf_type_names[] = {"string", "integer", "boolean"};

/* The option reference, section by section: whether opt starts another
 * section than *section (which then becomes opt's). */
static int lt_conf_section_starts(const lt_conf_opt_t *opt, const char **section)
{
    if (strcmp(*section, opt->section) == 0)
        return 0;
    *section = opt->section;
    return 1;
}

void lt_conf_print_reference(const lt_conf_t *conf, FILE *out)
{
    const char *section = "";
    for (const lt_conf_opt_t *opt = conf->table; opt && opt->name; opt++) {
        if (lt_conf_section_starts(opt, &section))
            fprintf(out, "\n  [%s]\n", section);
        fprintf(out, "    %-22s %-8s default %-12s %s\n", opt->name,
                lt_conf_type_names[opt->type], opt->def ? opt->def : "(none)", opt->doc);
    }
    if (!conf->without_kafka)
        fprintf(out, "\n  [kafka]\n    any librdkafka property, passed through unchanged "
                 "(bootstrap.servers, security.protocol, ...)\n");
}

/* The code point of the UTF-8 sequence at s (at most len bytes) into *cp;
 * returns its length, or 0 if the bytes are not UTF-8. */
static size_t lt_conf_utf8_decode(const unsigned char *s, size_t len, unsigned long *cp)
{
    size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
    if (n == 0 || n > len || s[0] >= 0xf8)
        return 0;
    *cp = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3f);
    }
    return n;
}

void lt_conf_man_text(FILE *out, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    if (len && (s[0] == '.' || s[0] == '\''))
        fputs("\\&", out);
    for (size_t i = 0; i < len; i++) {
        unsigned long cp;
        size_t n;
        if (s[i] == '\\')
            fputs("\\e", out);
        else if (s[i] == '-' && (i == 0 || !isalnum(s[i - 1])))
            fputs("\\-", out);
        else if (s[i] < 0x80)
            fputc(s[i], out);
        else if ((n = lt_conf_utf8_decode(s + i, len - i, &cp)) != 0) {
            fprintf(out, "\\[u%04lX]", cp);
            i += n - 1;
        } else
            fputc('?', out);
    }
}

void lt_conf_print_man(const lt_conf_t *conf, FILE *out)
{
    const char *section = "";
    for (const lt_conf_opt_t *opt = conf->table; opt && opt->name; opt++) {
        if (lt_conf_section_starts(opt, &section))
            fprintf(out, ".SS [%s]\n", section);
        fputs(".TP\n\\fB", out);
        lt_conf_man_text(out, opt->name, strlen(opt->name));
        fprintf(out, "\\fR (%s, default ", lt_conf_type_names[opt->type]);
        if (opt->def) {
            fputs("\\fB", out);
            lt_conf_man_text(out, opt->def, strlen(opt->def));
            fputs("\\fR", out);
        } else {
            fputs("none", out);
        }
        fputs(")\n", out);
        lt_conf_man_text(out, opt->doc, strlen(opt->doc));
        fputc('\n', out);
    }
    if (!conf->without_kafka)
        fputs(".SS [kafka]\n"
              "Any librdkafka property, passed through unchanged (bootstrap.servers,\n"
              "security.protocol, ssl.*, sasl.*, ...).\n",
              out);
}

void lt_conf_destroy(lt_conf_t *conf)
{
    for (const lt_conf_opt_t *opt = conf->table; opt && opt->name; opt++) {
        if (opt->type == LT_CONF_STR) {
            char **slot = (char **)(void *)((char *)conf->dst + opt->offset);
            free(*slot);
            *slot = NULL;
        }
    }
    for (size_t i = 0; i < conf->kafka.count; i++) {
        free(conf->kafka.keys[i]);
        free(conf->kafka.values[i]);
    }
    free(conf->kafka.keys);
    free(conf->kafka.values);
    memset(&conf->kafka, 0, sizeof(conf->kafka));
}

const char *lt_conf_kafka_get(const lt_conf_t *conf, const char *key)
{
    for (size_t i = 0; i < conf->kafka.count; i++)
        if (strcmp(conf->kafka.keys[i], key) == 0)
            return conf->kafka.values[i];
    return NULL;
}
