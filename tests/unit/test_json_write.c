/* The sink's fast JSON writer must produce exactly what the jansson path
 * produces, for every sample message in tests/data/json_pb. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lienthong/v1/lienthong.pb-c.h"
#include "lt_buf.h"
#include "lt_json_pb.h"
#include "lt_test.h"

static void check_file(const char *path)
{
    char errstr[512];
    json_error_t jerr;
    json_t *json = json_load_file(path, 0, &jerr);
    ASSERT_TRUE(json != NULL);
    if (!json)
        return;
    const ProtobufCMessageDescriptor *desc = json_object_get(json, "events")
                                                 ? &lienthong__v1__batch__descriptor
                                                 : &lienthong__v1__event__descriptor;
    ProtobufCMessage *msg = lt_json_to_pb(desc, json, errstr, sizeof(errstr));
    json_decref(json);
    if (!msg) /* not every sample is an Event or a Batch */
        return;
    json_t *tree = lt_pb_to_json(msg);
    char *expect = json_dumps(tree, JSON_COMPACT);
    lt_buf_t out = {0};
    lt_pb_write_json(msg, &out);
    ASSERT_EQ_STR(lt_buf_cstr(&out), expect);
    free(expect);
    json_decref(tree);
    lt_buf_free(&out);
    protobuf_c_message_free_unpacked(msg, NULL);
}

static void test_samples_match_jansson(void)
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

static void test_escapes(void)
{
    Lienthong__V1__PersonName name;
    lienthong__v1__person_name__init(&name);
    name.full = (char *)"Nguyễn \"Tí\" \\ \x01 tab\there";
    json_t *tree = lt_pb_to_json(&name.base);
    char *expect = json_dumps(tree, JSON_COMPACT);
    lt_buf_t out = {0};
    lt_pb_write_json(&name.base, &out);
    ASSERT_EQ_STR(lt_buf_cstr(&out), expect);
    free(expect);
    json_decref(tree);
    lt_buf_free(&out);
}

int main(void)
{
    RUN_TEST(test_samples_match_jansson);
    RUN_TEST(test_escapes);
    return LT_TEST_EXIT();
}
