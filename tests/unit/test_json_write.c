/* The one JSON writer (lt_pb_write_json, the sink's hot path) against expected
 * text: every sample message in tests/data/json_pb is canonical proto3 JSON
 * with its fields in descriptor order, so read into a message and written
 * again it must come out as the file's own text, compacted, byte for byte. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lienthong/v1/lienthong.pb-c.h"
#include "lt_buf.h"
#include "lt_json_pb.h"
#include "lt_test.h"

/* The root type of a sample, by the fields only it has. */
static const ProtobufCMessageDescriptor *sample_type(const json_t *json)
{
    if (json_object_get(json, "signature"))
        return &lienthong__v1__signed_batch__descriptor;
    if (json_object_get(json, "events"))
        return &lienthong__v1__batch__descriptor;
    return &lienthong__v1__event__descriptor;
}

static void check_file(const char *path)
{
    char errstr[512];
    json_error_t jerr;
    json_t *json = json_load_file(path, 0, &jerr);
    ASSERT_TRUE(json != NULL);
    if (!json)
        return;
    ProtobufCMessage *msg = lt_json_to_pb(sample_type(json), json, errstr, sizeof(errstr));
    char *expect = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    ASSERT_TRUE(msg != NULL);
    if (msg) {
        lt_buf_t out = {0};
        lt_pb_write_json(msg, &out);
        ASSERT_EQ_STR(lt_buf_cstr(&out), expect);
        lt_buf_free(&out);
        protobuf_c_message_free_unpacked(msg, NULL);
    } else {
        fprintf(stderr, "  %s: %s\n", path, errstr);
    }
    free(expect);
}

static void test_samples_written_as_given(void)
{
    char dir[512];
    const char *data = getenv("LT_TEST_DATA");
    snprintf(dir, sizeof(dir), "%s/json_pb", data ? data : "tests/data");
    DIR *d = opendir(dir);
    ASSERT_TRUE(d != NULL);
    int files = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        check_file(path);
        files++;
    }
    if (d)
        closedir(d);
    ASSERT_TRUE(files >= 3);
}

/* Quotes, backslashes, tab and a C0 control (which the decoder refuses, but a
 * hand-built tree can hold) are escaped; UTF-8 is written as it is. */
static void test_escapes(void)
{
    Lienthong__V1__PersonName name;
    lienthong__v1__person_name__init(&name);
    name.full = (char *)"Nguyễn \"Tí\" \\ \x01 tab\there";
    lt_buf_t out = {0};
    lt_pb_write_json(&name.base, &out);
    ASSERT_EQ_STR(lt_buf_cstr(&out),
                  "{\"full\":\"Nguyễn \\\"Tí\\\" \\\\ \\u0001 tab\\there\"}");
    lt_buf_free(&out);
}

int main(void)
{
    RUN_TEST(test_samples_written_as_given);
    RUN_TEST(test_escapes);
    return LT_TEST_EXIT();
}
