#include "lt_control_msg.h"

#include "lt_codec.h"
#include "lt_util.h"

uint8_t *lt_control_msg_pack(const char *commune, const char *request_id,
                             Lienthong__V1__ResyncRequest *resync, uint64_t confirmed_seq,
                             size_t *len)
{
    Lienthong__V1__ControlMessage cm = LIENTHONG__V1__CONTROL_MESSAGE__INIT;
    Lienthong__V1__DigestConfirmed confirmed = LIENTHONG__V1__DIGEST_CONFIRMED__INIT;
    char code[8], id[80];
    lt_strlcpy(code, commune, sizeof(code));
    lt_strlcpy(id, request_id, sizeof(id));
    cm.commune_code = code;
    cm.request_id = id;
    cm.created_at_us = lt_now_us();
    cm.resync = resync;
    if (!resync) {
        confirmed.seq = confirmed_seq;
        cm.confirmed = &confirmed;
    }
    return lt_pb_pack(&cm.base, len);
}
