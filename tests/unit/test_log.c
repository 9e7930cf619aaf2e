/* lt_log: every line it writes is strict logfmt, and every key and value
 * comes back unchanged when parsed — quotes, backslashes, newlines, equals
 * signs, control characters and Vietnamese text included.
 *
 * The lines are real: written by lt_warn/lt_info to stderr (redirected to a
 * temporary file), with the formats the agent and the sink use. */
#include <inttypes.h>
#include <stdint.h>
#include <unistd.h>

#include "lt_log.h"
#include "lt_test.h"
#include "lt_text.h"

/* ------------------------------------------------------------ capturing */

static int capture_saved_fd = -1;
static FILE *capture_file;

static void capture_begin(void)
{
    fflush(stderr);
    capture_file = tmpfile();
    capture_saved_fd = dup(STDERR_FILENO);
    if (!capture_file || capture_saved_fd < 0 ||
        dup2(fileno(capture_file), STDERR_FILENO) < 0) {
        perror("test_log: cannot redirect stderr");
        exit(EXIT_FAILURE);
    }
}

/* What was written to stderr since capture_begin (caller frees). */
static char *capture_end(void)
{
    fflush(stderr);
    dup2(capture_saved_fd, STDERR_FILENO);
    close(capture_saved_fd);
    long size = lseek(fileno(capture_file), 0, SEEK_END);
    char *text = calloc(1, (size_t)size + 1);
    rewind(capture_file);
    if (fread(text, 1, (size_t)size, capture_file) != (size_t)size)
        perror("test_log: cannot read the captured log");
    fclose(capture_file);
    return text;
}

/* ------------------------------------------------- a strict logfmt parser */

#define MAX_PAIRS 24

typedef struct logfmt_pair {
    char key[64];
    char *value; /* decoded, malloc'd */
} logfmt_pair_t;

typedef struct logfmt_line {
    logfmt_pair_t pair[MAX_PAIRS];
    int n;
    const char *error; /* why the line is not logfmt, or NULL */
    size_t error_at;
} logfmt_line_t;

static int is_bare_char(unsigned char c)
{
    return c > ' ' && c != '=' && c != '"' && c != 0x7f;
}

static void put_utf8(char **out, unsigned cp)
{
    unsigned char *o = (unsigned char *)*out;
    if (cp < 0x80) {
        *o++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *o++ = (unsigned char)(0xc0 | cp >> 6);
        *o++ = (unsigned char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (unsigned char)(0xe0 | cp >> 12);
        *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (unsigned char)(0x80 | (cp & 0x3f));
    }
    *out = (char *)o;
}

/* A quoted value from *p (at the opening quote) into out; NULL or the error. */
static const char *parse_quoted(const char **p, char *out)
{
    const char *s = *p + 1;
    for (;;) {
        unsigned char c = (unsigned char)*s;
        if (c == '\0')
            return "unterminated quoted value";
        if (c < 0x20 || c == 0x7f)
            return "raw control character inside a quoted value";
        if (c == '"')
            break;
        if (c != '\\') {
            *out++ = *s++;
            continue;
        }
        char e = s[1];
        const char *simple = strchr("\"\\nrt", e);
        if (e && simple) {
            *out++ = "\"\\\n\r\t"[simple - "\"\\nrt"];
            s += 2;
            continue;
        }
        if (e != 'u')
            return "unknown escape";
        char hex[5] = "";
        strncpy(hex, s + 2, 4);
        if (strspn(hex, "0123456789abcdefABCDEF") != 4)
            return "bad \\u escape";
        unsigned cp = (unsigned)strtoul(hex, NULL, 16);
        if (cp >= 0xd800 && cp <= 0xdfff)
            return "surrogate in \\u escape";
        put_utf8(&out, cp);
        s += 6;
    }
    *out = '\0';
    *p = s + 1;
    return NULL;
}

static const char *parse_pair(const char **p, logfmt_pair_t *pair)
{
    const char *s = *p;
    size_t klen = 0;
    while (is_bare_char((unsigned char)s[klen]) && (unsigned char)s[klen] < 0x80)
        klen++;
    if (klen == 0 || klen >= sizeof(pair->key))
        return "missing or overlong key";
    memcpy(pair->key, s, klen);
    pair->key[klen] = '\0';
    if (s[klen] != '=')
        return "key without '='";
    s += klen + 1;
    pair->value = calloc(1, strlen(s) + 1);
    if (*s == '"') {
        const char *err = parse_quoted(&s, pair->value);
        if (err)
            return (*p = s, err);
    } else {
        size_t vlen = 0;
        while (is_bare_char((unsigned char)s[vlen]))
            vlen++;
        memcpy(pair->value, s, vlen);
        s += vlen;
    }
    *p = s;
    return NULL;
}

/* Pairs separated by exactly one space, no leading or trailing space, and the
 * whole line valid UTF-8 with no control character. */
static logfmt_line_t logfmt_parse(const char *line)
{
    logfmt_line_t parsed = {.n = 0};
    char errstr[256];
    if (lt_text_validate(line, strlen(line), LT_TEXT_LINE, errstr, sizeof(errstr)) != 0) {
        parsed.error = "not one line of valid UTF-8 text";
        return parsed;
    }
    const char *p = line;
    while (!parsed.error) {
        if (parsed.n == MAX_PAIRS) {
            parsed.error = "too many pairs";
            break;
        }
        parsed.error = parse_pair(&p, &parsed.pair[parsed.n]);
        if (parsed.pair[parsed.n].value)
            parsed.n++;
        if (parsed.error || *p == '\0')
            break;
        if (*p != ' ')
            parsed.error = "value not followed by a space";
        else
            p++;
    }
    parsed.error_at = (size_t)(p - line);
    return parsed;
}

static void logfmt_free(logfmt_line_t *parsed)
{
    for (int i = 0; i < parsed->n; i++)
        free(parsed->pair[i].value);
}

/* ------------------------------------------------------------- checking */

/* The one line in text; the rest of the text (if any) is a failure. */
static char *only_line(char *text)
{
    char *nl = strchr(text, '\n');
    ASSERT_TRUE(nl != NULL);
    if (!nl)
        return text;
    ASSERT_EQ_STR(nl + 1, "");
    *nl = '\0';
    return text;
}

/* Parse line and compare it with ts, level, comp=test, then the expected
 * key/value pairs (a NULL-terminated list of key, value, key, value, ...). */
static void check_line(const char *line, const char *level, const char *const *expected)
{
    logfmt_line_t parsed = logfmt_parse(line);
    if (parsed.error)
        fprintf(stderr, "not logfmt (%s at byte %zu): %s\n", parsed.error, parsed.error_at, line);
    ASSERT_TRUE(parsed.error == NULL);
    int want = 3;
    while (expected[(want - 3) * 2])
        want++;
    ASSERT_EQ_INT(parsed.n, want);
    if (parsed.n >= 3) {
        ASSERT_EQ_STR(parsed.pair[0].key, "ts");
        ASSERT_EQ_INT(strlen(parsed.pair[0].value), strlen("2026-11-24T20:41:07.123Z"));
        ASSERT_EQ_STR(parsed.pair[1].key, "level");
        ASSERT_EQ_STR(parsed.pair[1].value, level);
        ASSERT_EQ_STR(parsed.pair[2].key, "comp");
        ASSERT_EQ_STR(parsed.pair[2].value, "test");
    }
    for (int i = 3; i < parsed.n && i < want; i++) {
        ASSERT_EQ_STR(parsed.pair[i].key, expected[(i - 3) * 2]);
        ASSERT_EQ_STR(parsed.pair[i].value, expected[(i - 3) * 2 + 1]);
    }
    logfmt_free(&parsed);
}

#define CHECK_LOGGED(level, expected, call)                                             \
    do {                                                                                \
        capture_begin();                                                                \
        call;                                                                           \
        char *text_ = capture_end();                                                    \
        check_line(only_line(text_), (level), (expected));                              \
        free(text_);                                                                    \
    } while (0)

/* --------------------------------------------------------------- cases */

static const char pg_error[] =
    "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password "
    "authentication failed for user \"lt\"\nDETAIL:  file C:\\pg\\hba.conf\tline 3\r\n";

/* The sink's format: a bare value with a space, a libpq message in quotes. */
static void test_database_error(void)
{
    const char *const want[] = {"msg", "province database unavailable, retrying",
                                "during", "apply round", "error", pg_error, NULL};
    CHECK_LOGGED("warn", want,
                 lt_warn("province database unavailable, retrying", "during=%s error=\"%s\"",
                         "apply round", pg_error));
}

static void test_vietnamese_text(void)
{
    const char *const want[] = {"msg",     "Đã nhận hồ sơ \"khẩn\"", "commune", "00004",
                                "name",    "Nguyễn Thị Hoà",         "place",   "Phường_Ba_Đình",
                                "address", "Số 5, ngõ \"Hoà Bình\"", NULL};
    CHECK_LOGGED("info", want,
                 lt_info("Đã nhận hồ sơ \"khẩn\"", "commune=%s name=\"%s\" place=%s address=%s",
                         "00004", "Nguyễn Thị Hoà", "Phường_Ba_Đình", "Số 5, ngõ \"Hoà Bình\""));
}

static void test_equals_signs_and_quotes(void)
{
    const char *const want[] = {"msg",  "x",   "detail", "a=b c=\"d\" e\\f",
                                "pair", "k=v", "id",     "a\"b",
                                NULL};
    CHECK_LOGGED("info", want,
                 lt_info("x", "detail=\"%s\" pair=%s id=%s", "a=b c=\"d\" e\\f", "k=v", "a\"b"));
}

/* The agent's delivery failure appends a ready-made ` hint="..."` pair. */
static void test_appended_pair(void)
{
    const char *const want[] = {"msg",   "batch delivery failed, will resend",
                                "topic", "lt.01.00004.events",
                                "first_seq", "7",
                                "error", "Broker: \"Message size too large\"",
                                "hint",  "the topic does not exist",
                                NULL};
    CHECK_LOGGED("warn", want,
                 lt_warn("batch delivery failed, will resend",
                         "topic=%s first_seq=%" PRIu64 " error=\"%s\"%s", "lt.01.00004.events",
                         (uint64_t)7, "Broker: \"Message size too large\"",
                         " hint=\"the topic does not exist\""));
}

static void test_control_characters(void)
{
    const char *const want[] = {"msg", "y", "detail", "tab\there\r\x01 del\x7f \xc2\x85 end",
                                NULL};
    CHECK_LOGGED("error", want,
                 lt_error("y", "detail=\"%s\"", "tab\there\r\x01 del\x7f \xc2\x85 end"));
}

/* Every printf conversion the callers use still formats as printf would. */
static void test_conversions(void)
{
    const char *const want[] = {"msg", "z",    "a", "-42", "b", "7",       "c",
                                "18446744073709551615", "d", "-1", "e", "ff",
                                "f",   "abc",  "g", "   ab", "h", "7   ", "i", "z",
                                "j",   "3.14", "k", "50%", "empty", "", "short", "-3",
                                NULL};
    CHECK_LOGGED("info", want,
                 lt_info("z",
                         "a=%d b=%zu c=%" PRIu64 " d=%ld e=%x f=%.*s g=%5s h=%-4d i=%c j=%.2f"
                         " k=%s%% empty=%s short=%hd",
                         -42, (size_t)7, UINT64_MAX, -1L, 255u, 3, "abcdef", "ab", 7, 'z',
                         3.14159, "50", "", (short)-3));
}

/* A long value is written whole: a cut would lose the closing quote. */
static void test_long_value(void)
{
    char value[6001];
    for (size_t i = 0; i < sizeof(value) - 1; i++)
        value[i] = i % 100 == 99 ? '"' : (char)('a' + i % 26);
    value[sizeof(value) - 1] = '\0';
    const char *const want[] = {"msg", "long", "detail", value, "after", "1", NULL};
    CHECK_LOGGED("info", want, lt_info("long", "detail=\"%s\" after=%d", value, 1));
}

/* Bytes that are not UTF-8 become U+FFFD: the line stays valid text. */
static void test_invalid_utf8(void)
{
    const char *const want[] = {"msg", "bad", "detail", "ok\xef\xbf\xbd\xef\xbf\xbd(", "bare",
                                "x\xef\xbf\xbd", NULL};
    CHECK_LOGGED("info", want,
                 lt_info("bad", "detail=\"%s\" bare=%s", "ok\xff\xc3(", "x\xfe"));
}

static void test_level_filter(void)
{
    capture_begin();
    lt_debug("not written", "x=%d", 1);
    char *text = capture_end();
    ASSERT_EQ_STR(text, "");
    free(text);
}

int main(void)
{
    lt_log_init("test", LT_LOG_INFO);
    RUN_TEST(test_database_error);
    RUN_TEST(test_vietnamese_text);
    RUN_TEST(test_equals_signs_and_quotes);
    RUN_TEST(test_appended_pair);
    RUN_TEST(test_control_characters);
    RUN_TEST(test_conversions);
    RUN_TEST(test_long_value);
    RUN_TEST(test_invalid_utf8);
    RUN_TEST(test_level_filter);
    return LT_TEST_EXIT();
}
