#include "lt_plan.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_buf.h"
#include "lt_codec.h"
#include "lt_digest.h"
#include "lt_envelope.h"
#include "lt_event.h"
#include "lt_json_pb.h"
#include "lt_log.h"
#include "lt_units.h"
#include "lt_util.h"
#include "lt_validate.h"

#define LT_ENTITY_ID_MAX 128

_Static_assert(LT_REGISTRY_HASH_LEN == LT_SHA256_LEN, "the registry keeps SHA-256 links");
_Static_assert(LT_ENVELOPE_HASH_LEN == LT_SHA256_LEN, "the envelope gives SHA-256 links");

/* What a mode changes, in one place: a replay offers every event (the store
 * skips what the event log holds), opens no gap, moves no offset, and keeps
 * a refusal instead of quarantining the message again. */
typedef struct lt_plan_rules {
    int check_sequence;  /* offer only events new to the province; a jump opens a gap */
    int advance_offsets; /* each message's offset advances */
    int quarantine;      /* a message that cannot be applied becomes a quarantine row */
    int count_events;    /* progress counts the events (a replay's: what the log took) */
} lt_plan_rules_t;

static const lt_plan_rules_t lt_plan_rules_of[] = {
    [LT_PLAN_NORMAL] = {.check_sequence = 1, .advance_offsets = 1, .quarantine = 1,
                        .count_events = 1},
    [LT_PLAN_REPLAY] = {0},
};

/* One commune's progress as the plan would leave it. */
typedef struct lt_plan_progress {
    int in_plan;
    uint64_t last_seq;
    uint8_t last_hash[LT_SHA256_LEN];
    lt_ranges_t *missing;
    uint64_t events, batches, duplicates;
    uint64_t fills; /* events of this round that fill a gap */
    int64_t last_recorded_us;
    lt_digest_t *digest; /* the commune's digest as of digest_seq, from its agent */
    uint64_t digest_seq; /* 0: none this round */
    Lienthong__V1__Heartbeat heartbeat; /* the newest of the round (at_us 0: none) */
    char agent_version[32], agent_id[64];
} lt_plan_progress_t;

struct lt_plan {
    lt_registry_t *registry; /* borrowed */
    size_t max_message_bytes;
    int allow_integrity_only;
    const lt_units_t *units; /* borrowed; NULL skips the rules */
    lt_plan_mode_t mode;
    const lt_plan_rules_t *rules;
    lt_plan_progress_t *progress; /* one per registry commune, by lt_commune_index */
    size_t n_progress;
    /* the rows of the round */
    lt_buf_t events;     /* event log rows, COPY text format, one per event */
    lt_newest_t *newest; /* lt_stage rows: the newest version of each entity */
    lt_buf_t offsets;    /* lines of "topic\tpartition\tnext_offset" */
    lt_buf_t gaps;       /* COPY rows for the gap table */
    lt_buf_t quarantine; /* COPY rows for the quarantine */
    lt_buf_t batches;    /* COPY rows for the batch chain */
    lt_buf_t progress_rows;
    lt_buf_t duplicates; /* "commune topic offset first_seq last_seq" per skipped batch */
    lt_buf_t digests;    /* COPY rows of the communes' digests to compare */
    lt_buf_t manifest;   /* resync: "commune\tbucket\ttype\tid" the commune holds */
    lt_buf_t complete;   /* resync: "commune\tbucket" whose manifest is whole */
    lt_buf_t resyncs;    /* resync: "commune\trequest_id\tbuckets\tevents\tdone" per part */
    lt_buf_t heartbeats; /* COPY rows: the newest heartbeat of each commune */
    lt_buf_t scratch, row;
    lt_validate_result_t *vr; /* per event of the batch being staged */
    size_t vr_cap;
    lt_plan_counts_t counts;
    char refusal_code[32]; /* a replay's refusal, "" if none */
    char refusal[512];
    const lt_plan_t *base; /* planning on top of it (lt_plan_messages_after), or NULL */
    lt_plan_stats_t *stats; /* own_stats, or the first twin's */
    lt_plan_stats_t own_stats;
};

/* Why a message cannot be applied. */
typedef struct lt_reject {
    const char *code;
    char text[512];
} lt_reject_t;

/* ------------------------------------------------------------------ setup */

lt_plan_t *lt_plan_new(lt_registry_t *reg, size_t max_message_bytes, int allow_integrity_only,
                       const lt_units_t *units)
{
    lt_plan_t *plan = calloc(1, sizeof(*plan));
    if (!plan)
        abort();
    plan->registry = reg;
    plan->max_message_bytes = max_message_bytes;
    plan->allow_integrity_only = allow_integrity_only;
    plan->units = units;
    plan->newest = lt_newest_new();
    plan->stats = &plan->own_stats;
    lt_plan_reset(plan);
    return plan;
}

lt_plan_t *lt_plan_new_twin(lt_plan_t *plan)
{
    lt_plan_t *twin = lt_plan_new(plan->registry, plan->max_message_bytes,
                                  plan->allow_integrity_only, plan->units);
    twin->stats = plan->stats;
    return twin;
}

void lt_plan_destroy(lt_plan_t *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->n_progress; i++) {
        lt_ranges_destroy(plan->progress[i].missing);
        free(plan->progress[i].digest);
    }
    free(plan->progress);
    lt_buf_t *bufs[] = {&plan->events,     &plan->offsets,    &plan->gaps,
                        &plan->quarantine, &plan->batches,    &plan->progress_rows,
                        &plan->duplicates, &plan->digests,    &plan->manifest,
                        &plan->complete,   &plan->resyncs,    &plan->heartbeats, &plan->scratch,
                        &plan->row};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(*bufs); i++)
        lt_buf_free(bufs[i]);
    lt_newest_destroy(plan->newest);
    free(plan->vr);
    free(plan);
}

/* Every row buffer NUL-terminated: the accessors hand them out as C strings. */
static void lt_plan_terminate(lt_plan_t *plan)
{
    lt_buf_t *bufs[] = {&plan->events,  &plan->offsets,       &plan->gaps,
                        &plan->quarantine, &plan->batches, &plan->progress_rows,
                        &plan->digests, &plan->manifest, &plan->complete, &plan->resyncs,
                        &plan->heartbeats};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(*bufs); i++)
        lt_buf_cstr(bufs[i]);
}

/* One progress slot per registry commune (the registry may have grown). */
static void lt_plan_size_progress(lt_plan_t *plan)
{
    size_t need = lt_registry_count(plan->registry);
    if (need <= plan->n_progress)
        return;
    plan->progress = realloc(plan->progress, need * sizeof(*plan->progress));
    if (!plan->progress)
        abort();
    for (size_t i = plan->n_progress; i < need; i++) {
        memset(&plan->progress[i], 0, sizeof(plan->progress[i]));
        plan->progress[i].missing = lt_ranges_new();
    }
    plan->n_progress = need;
}

void lt_plan_reset(lt_plan_t *plan)
{
    lt_buf_t *bufs[] = {&plan->events,        &plan->offsets,    &plan->gaps,
                        &plan->quarantine,    &plan->batches,    &plan->progress_rows,
                        &plan->duplicates,    &plan->digests,    &plan->manifest,
                        &plan->complete,      &plan->resyncs,    &plan->heartbeats};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(*bufs); i++)
        lt_buf_reset(bufs[i]);
    lt_newest_reset(plan->newest);
    memset(&plan->counts, 0, sizeof(plan->counts));
    plan->refusal_code[0] = plan->refusal[0] = '\0';
    lt_plan_size_progress(plan);
    for (size_t i = 0; i < plan->n_progress; i++) {
        lt_plan_progress_t *p = &plan->progress[i];
        p->in_plan = 0;
        p->events = p->batches = p->duplicates = p->fills = 0;
        p->last_recorded_us = 0;
        p->digest_seq = 0;
        p->heartbeat.at_us = 0;
    }
    plan->mode = LT_PLAN_NORMAL;
    plan->rules = &lt_plan_rules_of[LT_PLAN_NORMAL];
    lt_plan_terminate(plan);
}

/* ------------------------------------------------------------ validation */

static int lt_reject(lt_reject_t *rej, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int lt_reject(lt_reject_t *rej, const char *code, const char *fmt, ...)
{
    va_list ap;
    rej->code = code;
    va_start(ap, fmt);
    vsnprintf(rej->text, sizeof(rej->text), fmt, ap);
    va_end(ap);
    return -1;
}

static int lt_plan_check_event(const Lienthong__V1__Event *ev, uint64_t expect_seq,
                               size_t index, lt_reject_t *rej)
{
    if (ev->seq != expect_seq)
        return lt_reject(rej, "bad_sequence",
                         "events[%zu]: seq %" PRIu64 " where %" PRIu64 " was expected", index,
                         ev->seq, expect_seq);
    const char *type = lt_entity_type_name(ev->entity_type);
    if (!type)
        return lt_reject(rej, "bad_event", "events[%zu] (seq %" PRIu64 "): unknown entity_type %d",
                         index, ev->seq, (int)ev->entity_type);
    size_t id_len = strlen(ev->entity_id);
    if (id_len == 0 || id_len > LT_ENTITY_ID_MAX)
        return lt_reject(rej, "bad_event", "events[%zu] (seq %" PRIu64 "): entity_id length %zu "
                         "is outside 1..%d", index, ev->seq, id_len, LT_ENTITY_ID_MAX);
    if (ev->version == 0)
        return lt_reject(rej, "bad_event", "events[%zu] (seq %" PRIu64 "): version 0", index,
                         ev->seq);
    const ProtobufCMessage *payload = lt_event_payload(ev);
    if (ev->op == LIENTHONG__V1__OP__OP_DELETE)
        return payload ? lt_reject(rej, "bad_event",
                                   "events[%zu] (seq %" PRIu64 "): a delete carries a payload",
                                   index, ev->seq)
                       : 0;
    if (ev->op != LIENTHONG__V1__OP__OP_UPSERT)
        return lt_reject(rej, "bad_event", "events[%zu] (seq %" PRIu64 "): unknown op %d", index,
                         ev->seq, (int)ev->op);
    if (!payload || payload->descriptor != lt_entity_payload_desc(ev->entity_type))
        return lt_reject(rej, "bad_event",
                         "events[%zu] (seq %" PRIu64 "): %s upsert without a %s payload", index,
                         ev->seq, type, type);
    uint8_t hash[LT_SHA256_LEN];
    lt_event_payload_hash(ev, hash);
    if (ev->content_hash.len != LT_SHA256_LEN || memcmp(hash, ev->content_hash.data, LT_SHA256_LEN))
        return lt_reject(rej, "content_hash_mismatch",
                         "events[%zu] (seq %" PRIu64 "): content_hash does not match the payload",
                         index, ev->seq);
    return 0;
}

static int lt_plan_check_batch(const lt_commune_t *c, const Lienthong__V1__Batch *batch,
                               lt_reject_t *rej)
{
    const char *code = lt_commune_code(c);
    if (strcmp(batch->commune_code, code) != 0)
        return lt_reject(rej, "commune_mismatch",
                         "batch says commune \"%s\" but arrived on the topic of %s",
                         batch->commune_code, code);
    if (batch->n_events == 0 && !batch->digest && !batch->heartbeat && !batch->resync)
        return lt_reject(rej, "bad_batch", "batch %" PRIu64 "..%" PRIu64 " has no events and "
                         "carries nothing else", batch->first_seq, batch->last_seq);
    /* A resync part takes no sequence of its own (first_seq = last_seq + 1,
     * last_seq the last the agent had sent); other batches hold theirs. */
    size_t own = batch->resync ? 0 : batch->n_events;
    if (batch->first_seq == 0 || batch->last_seq + 1 != batch->first_seq + own)
        return lt_reject(rej, "bad_sequence",
                         "batch claims seq %" PRIu64 "..%" PRIu64 " but holds %zu events",
                         batch->first_seq, batch->last_seq, batch->n_events);
    /* A resync part holds current states, each under the sequence it was
     * first sent with: any order, but every one a sent sequence. */
    for (size_t i = 0; i < batch->n_events; i++) {
        uint64_t expect = batch->resync ? batch->events[i]->seq : batch->first_seq + i;
        if (batch->resync && (expect == 0 || expect > batch->last_seq))
            return lt_reject(rej, "bad_sequence", "resync events[%zu]: seq %" PRIu64
                             " is not a sent sequence (1..%" PRIu64 ")", i, expect,
                             batch->last_seq);
        if (lt_plan_check_event(batch->events[i], expect, i, rej) != 0)
            return -1;
    }
    return 0;
}

/* The rules, as a defence: the agent applied them already. Fills vr with
 * what the typed tables index. Returns 0, or -1 with rej set. */
static int lt_plan_validate(const lt_plan_t *plan, const lt_commune_t *c,
                            const Lienthong__V1__Batch *batch, const Lienthong__V1__Event *ev,
                            size_t index, lt_validate_result_t *vr, lt_reject_t *rej)
{
    char detail[512];
    memset(vr, 0, sizeof(*vr));
    if (!plan->units)
        return 0; /* tests plan without the unit list */
    const ProtobufCMessage *payload = lt_event_payload(ev);
    if (payload && lt_pb_check_nfc(payload, detail, sizeof(detail)) != 0)
        return lt_reject(rej, "bad_text", "events[%zu] (seq %" PRIu64 "): %s", index, ev->seq,
                         detail);
    lt_validate_ctx_t ctx = {plan->units, lt_registry_province(plan->registry),
                             lt_commune_code(c), batch->code_list_version};
    if (lt_validate_event(&ctx, ev, vr) != LT_RULE_OK)
        return lt_reject(rej, lt_rule_code_name(vr->code), "events[%zu] (seq %" PRIu64 "): %s",
                         index, ev->seq, vr->text);
    return 0;
}

/* ---------------------------------------------------------------- staging */

static void lt_plan_put_bytea(lt_buf_t *b, const uint8_t *data, size_t len)
{
    lt_buf_puts(b, "\\\\x");
    lt_buf_hex(b, data, len);
}

static void lt_plan_put_hash(lt_buf_t *b, const Lienthong__V1__Event *ev)
{
    if (ev->content_hash.len)
        lt_plan_put_bytea(b, ev->content_hash.data, ev->content_hash.len);
    else
        lt_buf_puts(b, "\\N");
}

/* "commune \t seq \t type \t id \t version \t op \t hash": how both rows start. */
static void lt_plan_put_head(lt_buf_t *b, const char *code, const Lienthong__V1__Event *ev)
{
    lt_buf_puts(b, code);
    lt_buf_append(b, "\t", 1);
    lt_buf_u64(b, ev->seq);
    lt_buf_append(b, "\t", 1);
    lt_buf_puts(b, lt_entity_type_name(ev->entity_type));
    lt_buf_append(b, "\t", 1);
    lt_buf_copy_str(b, ev->entity_id);
    lt_buf_append(b, "\t", 1);
    lt_buf_u64(b, ev->version);
    lt_buf_append(b, "\t", 1);
    lt_buf_puts(b, lt_op_name(ev->op));
    lt_buf_append(b, "\t", 1);
    lt_plan_put_hash(b, ev);
}

/* One event log row per event, COPYed straight into the table. */
static void lt_plan_stage_log(lt_plan_t *plan, const char *code, const Lienthong__V1__Event *ev)
{
    lt_buf_t *b = &plan->events;
    lt_plan_put_head(b, code, ev);
    lt_buf_append(b, "\t", 1);
    lt_buf_utc_us(b, ev->occurred_at_us);
    lt_buf_append(b, "\t", 1);
    lt_buf_utc_us(b, ev->recorded_at_us);
    lt_buf_append(b, "\n", 1);
    plan->counts.events++;
}

/* The lt_stage row of an entity, offered to the newest-per-entity table.
 * Hot path: built without printf or JSON trees. */
/* "\tbucket\th0\th1\th2\th3": the entity's digest member (lt_digest.h). */
static void lt_plan_put_member(lt_buf_t *b, const Lienthong__V1__Event *ev)
{
    lt_digest_member_t m;
    lt_digest_member(lt_entity_type_name(ev->entity_type), ev->entity_id, ev->version,
                     ev->op == LIENTHONG__V1__OP__OP_DELETE, ev->content_hash.data,
                     ev->content_hash.len, &m);
    lt_buf_append(b, "\t", 1);
    lt_buf_u64(b, m.bucket);
    for (int w = 0; w < 4; w++) {
        lt_buf_append(b, "\t", 1);
        lt_buf_i64(b, m.h[w]);
    }
}

/* force: the state replaces the province's whatever its version (a resync:
 * the commune's current state is the truth, even against a province row
 * with a higher version that the commune never sent). */
static void lt_plan_stage_entity(lt_plan_t *plan, const char *code,
                                 const Lienthong__V1__Event *ev, const lt_validate_result_t *vr,
                                 int force)
{
    lt_buf_t *b = &plan->row;
    lt_buf_reset(b);
    lt_plan_put_head(b, code, ev);
    lt_buf_append(b, "\t", 1);
    const ProtobufCMessage *payload = lt_event_payload(ev);
    if (payload) {
        lt_buf_reset(&plan->scratch);
        lt_pb_write_json(payload, &plan->scratch);
        lt_buf_copy_strn(b, plan->scratch.data, plan->scratch.len);
    } else {
        lt_buf_puts(b, "\\N");
    }
    lt_buf_append(b, "\t", 1);
    lt_buf_i64(b, ev->occurred_at_us);
    lt_buf_append(b, "\t", 1);
    lt_buf_i64(b, ev->recorded_at_us);
    lt_buf_append(b, "\t", 1);
    lt_buf_copy_str(b, vr->subject_name);
    lt_buf_append(b, "\t", 1);
    lt_buf_copy_str(b, vr->subject_name_key);
    lt_buf_append(b, "\t", 1);
    lt_buf_copy_str(b, vr->personal_id);
    lt_buf_puts(b, vr->late ? "\tt" : "\tf");
    lt_plan_put_member(b, ev);
    lt_buf_puts(b, force ? "\tt\n" : "\tf\n");
    /* The key: commune, type, id, separated by a byte no id contains. */
    lt_buf_reset(&plan->scratch);
    lt_buf_puts(&plan->scratch, code);
    lt_buf_append(&plan->scratch, "\x1f", 1);
    lt_buf_puts(&plan->scratch, lt_entity_type_name(ev->entity_type));
    lt_buf_append(&plan->scratch, "\x1f", 1);
    lt_buf_puts(&plan->scratch, ev->entity_id);
    lt_newest_offer(plan->newest, plan->scratch.data, plan->scratch.len, ev->version, ev->seq,
                    b->data, b->len);
}

static void lt_plan_stage_quarantine(lt_plan_t *plan, const lt_msg_t *msg, const char *commune,
                                     const lt_reject_t *rej)
{
    lt_buf_t *b = &plan->quarantine;
    lt_buf_copy_str(b, msg->topic);
    lt_buf_printf(b, "\t%" PRId32 "\t%" PRId64 "\t%s\t%s\t", msg->partition, msg->offset,
                  commune ? commune : "\\N", rej->code);
    lt_buf_copy_str(b, rej->text);
    lt_buf_puts(b, "\t");
    if (msg->key)
        lt_plan_put_bytea(b, msg->key, msg->key_len);
    else
        lt_buf_puts(b, "\\N");
    lt_buf_puts(b, "\t");
    lt_plan_put_bytea(b, msg->value ? msg->value : (const uint8_t *)"", msg->len);
    lt_buf_puts(b, "\n");
    plan->counts.quarantined++;
}

static void lt_plan_stage_batch_log(lt_plan_t *plan, const lt_msg_t *msg, const char *code,
                                    const lt_envelope_t *env, const uint8_t hash[LT_SHA256_LEN])
{
    const Lienthong__V1__Batch *batch = lt_envelope_batch(env);
    size_t sig_len;
    const uint8_t *sig = lt_envelope_signature(env, &sig_len);
    lt_buf_t *b = &plan->batches;
    lt_buf_printf(b, "%s\t%" PRIu64 "\t%" PRIu64 "\t", code, batch->first_seq, batch->last_seq);
    lt_plan_put_bytea(b, hash, LT_SHA256_LEN);
    lt_buf_puts(b, "\t");
    if (batch->prev_batch_hash.len)
        lt_plan_put_bytea(b, batch->prev_batch_hash.data, batch->prev_batch_hash.len);
    else
        lt_buf_puts(b, "\\N");
    lt_buf_puts(b, "\t");
    lt_buf_copy_str(b, lt_envelope_key_id(env));
    lt_buf_puts(b, "\t");
    lt_plan_put_bytea(b, sig, sig_len);
    lt_buf_puts(b, "\t");
    lt_buf_copy_str(b, msg->topic);
    lt_buf_printf(b, "\t%" PRId64 "\n", msg->offset);
    plan->counts.batches++;
}

static void lt_plan_stage_gap(lt_plan_t *plan, const char *code, uint64_t from, uint64_t to)
{
    lt_buf_printf(&plan->gaps, "%s\t%" PRIu64 "\t%" PRIu64 "\n", code, from, to);
    plan->counts.gaps++;
}

static void lt_plan_stage_offset(lt_plan_t *plan, const lt_msg_t *msg)
{
    /* One line per message; the commit keeps the highest per partition. */
    lt_buf_copy_str(&plan->offsets, msg->topic);
    lt_buf_printf(&plan->offsets, "\t%" PRId32 "\t%" PRId64 "\n", msg->partition,
                  msg->offset + 1);
    plan->counts.offsets++;
}

/* Every commune the plan touches: its new progress, one COPY row each. */
static void lt_plan_stage_progress(lt_plan_t *plan)
{
    lt_buf_t *b = &plan->progress_rows;
    lt_buf_reset(b);
    for (size_t i = 0; i < plan->n_progress; i++) {
        const lt_plan_progress_t *p = &plan->progress[i];
        if (!p->in_plan)
            continue;
        lt_buf_printf(b, "%s\t%" PRIu64 "\t",
                      lt_commune_code(lt_registry_at(plan->registry, i)), p->last_seq);
        lt_plan_put_bytea(b, p->last_hash, LT_SHA256_LEN);
        lt_buf_printf(b, "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRId64 "\n",
                      plan->rules->count_events ? p->events : 0, p->batches, p->duplicates,
                      p->last_recorded_us);
    }
}

/* ------------------------------------------------------------------ plan */

/* The commune's progress in this plan, starting from the base plan's when
 * that plans it too, else from the registry's. */
static lt_plan_progress_t *lt_plan_progress_of(lt_plan_t *plan, lt_commune_t *c)
{
    size_t at = lt_commune_index(c);
    lt_plan_progress_t *p = &plan->progress[at];
    if (p->in_plan)
        return p;
    p->in_plan = 1;
    const lt_plan_t *base = plan->base;
    if (base && at < base->n_progress && base->progress[at].in_plan) {
        const lt_plan_progress_t *b = &base->progress[at];
        p->last_seq = b->last_seq;
        memcpy(p->last_hash, b->last_hash, LT_SHA256_LEN);
        lt_ranges_copy(p->missing, b->missing);
    } else {
        p->last_seq = lt_commune_last_seq(c);
        memcpy(p->last_hash, lt_commune_last_hash(c), LT_SHA256_LEN);
        lt_ranges_copy(p->missing, lt_commune_missing(c));
    }
    return p;
}

/* Is the event new to the province: above the last applied sequence, or
 * inside an open gap? (A replay offers every event: the store checks the
 * event log.) */
static int lt_plan_wanted(const lt_plan_t *plan, const lt_plan_progress_t *p, uint64_t seq)
{
    if (!plan->rules->check_sequence)
        return 1;
    return seq > p->last_seq || lt_ranges_contains(p->missing, seq);
}

static void lt_plan_note_duplicate(lt_plan_t *plan, lt_plan_progress_t *p, const char *code,
                                   const lt_msg_t *msg, const Lienthong__V1__Batch *batch)
{
    p->duplicates++;
    lt_buf_printf(&plan->duplicates, "%s %s %" PRId64 " %" PRIu64 " %" PRIu64 "\n", code,
                  msg->topic, msg->offset, batch->first_seq, batch->last_seq);
}

static void lt_plan_stage_event(lt_plan_t *plan, lt_plan_progress_t *p, const char *code,
                                const Lienthong__V1__Event *ev, const lt_validate_result_t *vr)
{
    if (plan->rules->check_sequence && ev->seq <= p->last_seq) {
        lt_ranges_remove(p->missing, ev->seq); /* fills its gap, once */
        p->fills++;
    }
    lt_plan_stage_log(plan, code, ev);
    lt_plan_stage_entity(plan, code, ev, vr, 0);
    p->events++;
    if (ev->recorded_at_us > p->last_recorded_us)
        p->last_recorded_us = ev->recorded_at_us;
}

/* A jump past the last applied sequence opens a gap. */
static void lt_plan_note_jump(lt_plan_t *plan, lt_plan_progress_t *p, const char *code,
                              const Lienthong__V1__Batch *batch)
{
    if (!plan->rules->check_sequence || batch->first_seq <= p->last_seq + 1)
        return;
    lt_plan_stage_gap(plan, code, p->last_seq + 1, batch->first_seq - 1);
    lt_ranges_append(p->missing, p->last_seq + 1, batch->first_seq - 1);
}

/* A batch may carry its commune's digest as of its last sequence: kept for
 * comparison once the round is planned. A digest that does not read is
 * logged and not compared; the events still apply. */
static void lt_plan_note_digest(lt_plan_t *plan, lt_plan_progress_t *p, const char *code,
                                const Lienthong__V1__Batch *batch)
{
    char errstr[256];
    if (!batch->digest || !plan->rules->check_sequence)
        return;
    if (!p->digest && !(p->digest = malloc(sizeof(*p->digest))))
        abort();
    if (lt_digest_from_pb(batch->digest, p->digest, errstr, sizeof(errstr)) != 0) {
        lt_warn("commune digest unreadable, not compared", "commune=%s seq=%" PRIu64
                " error=\"%s\"", code, batch->last_seq, errstr);
        p->digest_seq = 0;
        return;
    }
    p->digest_seq = batch->last_seq;
}

/* The newest heartbeat of the round is kept per commune. */
static void lt_plan_note_heartbeat(lt_plan_progress_t *p, const Lienthong__V1__Batch *batch)
{
    const Lienthong__V1__Heartbeat *hb = batch->heartbeat;
    if (!hb || hb->at_us <= p->heartbeat.at_us)
        return;
    p->heartbeat = *hb;
    lt_strlcpy(p->agent_version, hb->agent_version, sizeof(p->agent_version));
    lt_strlcpy(p->agent_id, batch->agent_id, sizeof(p->agent_id));
}

/* What a batch carries besides its events. */
static void lt_plan_note_extras(lt_plan_t *plan, lt_plan_progress_t *p, const char *code,
                                const Lienthong__V1__Batch *batch)
{
    lt_plan_note_digest(plan, p, code, batch);
    if (plan->rules->check_sequence) /* a replayed batch's heartbeat is old news */
        lt_plan_note_heartbeat(p, batch);
}

/* One row per commune heard from: commune, agent clock, backlog, oldest
 * unsent time, refused, agent version and id, acked_seq, next_seq. */
static void lt_plan_stage_heartbeats(lt_plan_t *plan)
{
    for (size_t i = 0; i < plan->n_progress; i++) {
        const lt_plan_progress_t *p = &plan->progress[i];
        const Lienthong__V1__Heartbeat *hb = &p->heartbeat;
        if (!p->in_plan || !hb->at_us)
            continue;
        lt_buf_printf(&plan->heartbeats, "%s\t%" PRId64 "\t%" PRIu64 "\t%" PRId64 "\t%" PRIu64 "\t",
                      lt_commune_code(lt_registry_at(plan->registry, i)), hb->at_us,
                      hb->outbox_pending, hb->oldest_unsent_at_us, hb->rows_refused);
        lt_buf_copy_str(&plan->heartbeats, p->agent_version);
        lt_buf_append(&plan->heartbeats, "\t", 1);
        lt_buf_copy_str(&plan->heartbeats, p->agent_id);
        lt_buf_printf(&plan->heartbeats, "\t%" PRIu64 "\t%" PRIu64 "\n", hb->acked_seq,
                      hb->next_seq);
    }
}

/* Compare a digest only if nothing after its sequence is applied in the
 * same round: the province's digest must describe the same events. */
static void lt_plan_stage_digests(lt_plan_t *plan)
{
    for (size_t i = 0; i < plan->n_progress; i++) {
        const lt_plan_progress_t *p = &plan->progress[i];
        if (!p->in_plan || !p->digest_seq)
            continue;
        const char *code = lt_commune_code(lt_registry_at(plan->registry, i));
        if (p->last_seq != p->digest_seq) {
            plan->counts.digests_skipped++;
            continue;
        }
        for (uint32_t b = 0; b < LT_DIGEST_BUCKETS; b++) {
            const lt_digest_bucket_t *d = &p->digest->b[b];
            lt_buf_printf(&plan->digests, "%s\t%" PRIu64 "\t%u\t%" PRId64 "\t%" PRId64
                          "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\n",
                          code, p->digest_seq, b, d->count, d->h[0], d->h[1], d->h[2], d->h[3]);
        }
        plan->counts.digests++;
    }
}

/* Room to validate every event of a batch before staging any. */
static void lt_plan_reserve_results(lt_plan_t *plan, size_t n)
{
    if (plan->vr_cap >= n)
        return;
    plan->vr_cap = n;
    plan->vr = realloc(plan->vr, plan->vr_cap * sizeof(*plan->vr));
    if (!plan->vr)
        abort();
}

/* A resync part: every state is offered (newest wins, so an equal or older
 * version changes nothing); only a sequence inside an open gap enters the
 * event log; the manifest of each completed bucket is staged so the store
 * can drop what the commune no longer holds. Returns 0, or -1 with rej. */
static int lt_plan_resync(lt_plan_t *plan, lt_commune_t *c, lt_plan_progress_t *p,
                          const Lienthong__V1__Batch *batch, lt_reject_t *rej)
{
    const char *code = lt_commune_code(c);
    const Lienthong__V1__ResyncPart *part = batch->resync;
    lt_plan_reserve_results(plan, batch->n_events);
    for (size_t i = 0; i < batch->n_events; i++)
        if (lt_plan_validate(plan, c, batch, batch->events[i], i, &plan->vr[i], rej) != 0)
            return -1;
    for (size_t i = 0; i < batch->n_events; i++) {
        const Lienthong__V1__Event *ev = batch->events[i];
        if (plan->rules->check_sequence && lt_ranges_remove(p->missing, ev->seq)) {
            lt_plan_stage_log(plan, code, ev); /* it fills its gap */
            p->fills++;
            p->events++;
        }
        /* A state is forced (the commune's state is the truth, whatever the
         * province holds); history only wins where it is newer. */
        lt_plan_stage_entity(plan, code, ev, &plan->vr[i], !part->history);
    }
    /* A state newer than the manifest (applied in this round or before) is
     * never dropped: only rows at or below the part's last_seq are judged. */
    for (size_t b = 0; b < part->n_buckets; b++)
        lt_buf_printf(&plan->complete, "%s\t%u\t%" PRIu64 "\t\\N\t\\N\n", code,
                      part->buckets[b], batch->last_seq);
    for (size_t a = 0; a < part->n_absent; a++) {
        const Lienthong__V1__ManifestEntry *e = part->absent[a];
        const char *type = lt_entity_type_name(e->entity_type);
        if (!type)
            return lt_reject(rej, "bad_batch", "resync absent[%zu]: unknown entity_type %d", a,
                             (int)e->entity_type);
        lt_buf_printf(&plan->complete, "%s\t%u\t%" PRIu64 "\t%s\t", code,
                      lt_digest_bucket_of(type, e->entity_id), batch->last_seq, type);
        lt_buf_copy_str(&plan->complete, e->entity_id);
        lt_buf_append(&plan->complete, "\n", 1);
    }
    for (size_t m = 0; m < part->n_manifest; m++) {
        const Lienthong__V1__ManifestEntry *e = part->manifest[m];
        const char *type = lt_entity_type_name(e->entity_type);
        if (!type)
            return lt_reject(rej, "bad_batch", "resync manifest[%zu]: unknown entity_type %d", m,
                             (int)e->entity_type);
        lt_buf_printf(&plan->manifest, "%s\t%u\t%s\t", code,
                      lt_digest_bucket_of(type, e->entity_id), type);
        lt_buf_copy_str(&plan->manifest, e->entity_id);
        lt_buf_append(&plan->manifest, "\n", 1);
    }
    lt_buf_printf(&plan->resyncs, "%s\t", code);
    lt_buf_copy_str(&plan->resyncs, part->request_id);
    lt_buf_printf(&plan->resyncs, "\t%zu\t%zu\t%s\n", part->n_buckets, batch->n_events,
                  part->done ? "t" : "f");
    plan->counts.resync_parts++;
    lt_plan_note_extras(plan, p, code, batch);
    return 0;
}

/* A commune merged into another is retired: its agent should have stopped.
 * What the province holds already is skipped as usual; a heartbeat or digest
 * alone is dropped (the commune is no longer watched); anything new is
 * quarantined naming the merger, never applied under the old code. */
static int lt_plan_retired(lt_plan_t *plan, lt_commune_t *c, lt_plan_progress_t *p,
                           const lt_msg_t *msg, const Lienthong__V1__Batch *batch,
                           lt_reject_t *rej)
{
    size_t wanted = 0;
    for (size_t i = 0; !batch->resync && i < batch->n_events; i++)
        wanted += lt_plan_wanted(plan, p, batch->events[i]->seq);
    if (!batch->resync && batch->n_events == 0)
        return 0;
    if (!batch->resync && !wanted) {
        lt_plan_note_duplicate(plan, p, lt_commune_code(c), msg, batch);
        return 0;
    }
    return lt_reject(rej, "commune_merged",
                     "commune %s was merged into %s: its records belong to %s, whose agent "
                     "sends their changes; stop the agent of %s (batch %" PRIu64 "..%" PRIu64
                     " not applied)",
                     lt_commune_code(c), lt_commune_merged_into(c), lt_commune_merged_into(c),
                     lt_commune_code(c), batch->first_seq, batch->last_seq);
}

/* Stage the events of a checked batch that the province does not hold yet.
 * All or nothing: if one of them breaks a rule the batch is quarantined
 * whole. Returns 0, or -1 with rej set. */
static int lt_plan_events(lt_plan_t *plan, lt_commune_t *c, const lt_msg_t *msg,
                          const lt_envelope_t *env, lt_reject_t *rej)
{
    const Lienthong__V1__Batch *batch = lt_envelope_batch(env);
    const char *code = lt_commune_code(c);
    lt_plan_progress_t *p = lt_plan_progress_of(plan, c);
    if (lt_commune_merged_into(c))
        return lt_plan_retired(plan, c, p, msg, batch, rej);
    if (batch->resync)
        return lt_plan_resync(plan, c, p, batch, rej);
    if (batch->n_events == 0) {
        lt_plan_note_extras(plan, p, code, batch); /* a digest or heartbeat alone */
        return 0;
    }
    size_t wanted = 0;
    for (size_t i = 0; i < batch->n_events; i++)
        wanted += lt_plan_wanted(plan, p, batch->events[i]->seq);
    if (!wanted) {
        lt_plan_note_duplicate(plan, p, code, msg, batch); /* resent or replayed: all held */
        return 0;
    }
    /* Check every wanted event first: a batch is staged whole or not at all. */
    lt_plan_reserve_results(plan, batch->n_events);
    for (size_t i = 0; i < batch->n_events; i++)
        if (lt_plan_wanted(plan, p, batch->events[i]->seq) &&
            lt_plan_validate(plan, c, batch, batch->events[i], i, &plan->vr[i], rej) != 0)
            return -1;
    lt_plan_note_jump(plan, p, code, batch);
    for (size_t i = 0; i < batch->n_events; i++)
        if (lt_plan_wanted(plan, p, batch->events[i]->seq))
            lt_plan_stage_event(plan, p, code, batch->events[i], &plan->vr[i]);
    uint8_t hash[LT_SHA256_LEN];
    lt_envelope_batch_hash(env, hash);
    lt_plan_stage_batch_log(plan, msg, code, env, hash);
    if (batch->last_seq > p->last_seq) {
        memcpy(p->last_hash, hash, LT_SHA256_LEN);
        p->last_seq = batch->last_seq;
    }
    p->batches++;
    lt_plan_note_extras(plan, p, code, batch);
    return 0;
}

/* Open the message's envelope with the commune's registered key. NULL with
 * rej set when it does not open. */
static lt_envelope_t *lt_plan_open(const lt_plan_t *plan, const lt_commune_t *c,
                                   const lt_msg_t *msg, lt_reject_t *rej)
{
    lt_envelope_signer_t signer = {.commune = lt_commune_code(c),
                                   .key_id = lt_commune_key_id(c),
                                   .public_key = lt_commune_public_key(c),
                                   .allow_integrity_only = plan->allow_integrity_only};
    return lt_envelope_open(msg->value, msg->len, plan->max_message_bytes, &signer, &rej->code,
                            rej->text, sizeof(rej->text));
}

/* A message that cannot be applied: quarantined, or kept as a replay's refusal. */
static void lt_plan_reject_message(lt_plan_t *plan, const lt_msg_t *msg, const lt_commune_t *c,
                                   const lt_reject_t *rej)
{
    if (plan->rules->quarantine) {
        lt_plan_stage_quarantine(plan, msg, c ? lt_commune_code(c) : NULL, rej);
        return;
    }
    lt_strlcpy(plan->refusal_code, rej->code, sizeof(plan->refusal_code));
    lt_strlcpy(plan->refusal, rej->text, sizeof(plan->refusal));
}

/* Is the message keyed by its commune's code? Returns 0, or -1 with rej set. */
static int lt_plan_check_key(const lt_commune_t *c, const lt_msg_t *msg, lt_reject_t *rej)
{
    const char *code = lt_commune_code(c);
    if (msg->key_len != strlen(code) || memcmp(msg->key, code, msg->key_len) != 0)
        return lt_reject(rej, "key_mismatch", "message key is not the commune code %s", code);
    return 0;
}

static void lt_plan_message(lt_plan_t *plan, const lt_msg_t *msg)
{
    lt_reject_t rej = {0};
    lt_envelope_t *env = NULL;
    lt_commune_t *c = lt_registry_by_topic(plan->registry, msg->topic);
    if (plan->rules->advance_offsets)
        lt_plan_stage_offset(plan, msg);
    if (!c) {
        lt_reject(&rej, "unknown_commune", "topic %s belongs to no registered commune of "
                  "province %s (run lienthong-sink provision)", msg->topic,
                  lt_registry_province(plan->registry));
        goto reject;
    }
    if (lt_plan_check_key(c, msg, &rej) != 0 || !(env = lt_plan_open(plan, c, msg, &rej)))
        goto reject;
    if (lt_plan_check_batch(c, lt_envelope_batch(env), &rej) != 0 ||
        lt_plan_events(plan, c, msg, env, &rej) != 0)
        goto reject;
    goto done;
reject:
    lt_plan_reject_message(plan, msg, c, &rej);
done:
    lt_envelope_destroy(env);
}

static void lt_plan_all(lt_plan_t *plan, const lt_plan_t *base, const lt_msg_t *msgs, size_t n,
                        lt_plan_mode_t mode)
{
    lt_plan_reset(plan);
    plan->mode = mode;
    plan->rules = &lt_plan_rules_of[mode];
    plan->base = base;
    for (size_t i = 0; i < n; i++)
        lt_plan_message(plan, &msgs[i]);
    plan->base = NULL; /* its progress is copied: it may be committed or reset now */
    lt_plan_stage_digests(plan);
    lt_plan_stage_heartbeats(plan);
    lt_plan_stage_progress(plan);
    lt_plan_terminate(plan);
}

void lt_plan_messages(lt_plan_t *plan, const lt_msg_t *msgs, size_t n, lt_plan_mode_t mode)
{
    lt_plan_all(plan, NULL, msgs, n, mode);
}

void lt_plan_messages_after(lt_plan_t *plan, const lt_plan_t *base, const lt_msg_t *msgs,
                            size_t n)
{
    lt_plan_all(plan, base, msgs, n, LT_PLAN_NORMAL);
}

void lt_plan_refused(lt_plan_t *plan, const lt_msg_t *msg, const char *code, const char *text)
{
    lt_reject_t rej;
    lt_reject(&rej, code, "%s", text);
    const lt_commune_t *c = lt_registry_by_topic(plan->registry, msg->topic);
    lt_plan_stage_offset(plan, msg);
    lt_plan_stage_quarantine(plan, msg, c ? lt_commune_code(c) : NULL, &rej);
    lt_plan_terminate(plan);
}

/* ---------------------------------------------------------- after commit */

/* A batch the province holds already: resent by an agent after a restart or
 * a refused delivery, or replayed by someone else. Harmless, but never silent. */
static void lt_plan_log_duplicates(const lt_plan_t *plan)
{
    const char *line = plan->duplicates.data, *end = line + plan->duplicates.len;
    while (line && line < end) {
        char code[8], topic[128];
        int64_t offset;
        uint64_t first, last;
        if (sscanf(line, "%7s %127s %" SCNd64 " %" SCNu64 " %" SCNu64, code, topic, &offset,
                   &first, &last) == 5)
            lt_info("batch already applied, skipped", "commune=%s topic=%s offset=%" PRId64
                    " first_seq=%" PRIu64 " last_seq=%" PRIu64, code, topic, offset, first, last);
        line = memchr(line, '\n', (size_t)(end - line));
        line = line ? line + 1 : NULL;
    }
}

/* The commune's planned progress becomes the registry's. */
static void lt_plan_promote_commune(lt_plan_t *plan, lt_commune_t *c,
                                    const lt_plan_progress_t *p)
{
    lt_commune_set_progress(c, p->last_seq, p->last_hash);
    lt_ranges_copy(lt_commune_missing(c), p->missing);
    plan->stats->batches_applied += p->batches;
    plan->stats->duplicates_skipped += p->duplicates;
    plan->stats->gap_fills += p->fills;
    if (p->fills)
        lt_info("gap filled", "commune=%s events=%" PRIu64 " still_missing=%" PRIu64,
                lt_commune_code(c), p->fills, lt_ranges_count(lt_commune_missing(c)));
}

void lt_plan_committed(lt_plan_t *plan)
{
    plan->stats->rounds++;
    plan->stats->events_applied += plan->counts.events;
    plan->stats->quarantined += plan->counts.quarantined;
    plan->stats->gaps += plan->counts.gaps;
    plan->stats->messages += plan->counts.offsets;
    plan->stats->digests_compared += plan->counts.digests;
    plan->stats->digests_skipped += plan->counts.digests_skipped;
    for (size_t i = 0; i < plan->n_progress; i++)
        if (plan->progress[i].in_plan)
            lt_plan_promote_commune(plan, lt_registry_at(plan->registry, i),
                                    &plan->progress[i]);
    lt_plan_log_duplicates(plan);
    lt_plan_reset(plan);
}

/* -------------------------------------------------------------- accessors */

lt_plan_mode_t lt_plan_mode(const lt_plan_t *plan)
{
    return plan->mode;
}

static const char *lt_plan_text(const lt_buf_t *buf, size_t *len)
{
    if (len)
        *len = buf->len;
    return buf->data; /* NUL-terminated by lt_plan_terminate */
}

const char *lt_plan_event_rows(const lt_plan_t *plan, size_t *len)
{
    return lt_plan_text(&plan->events, len);
}

const char *lt_plan_gap_rows(const lt_plan_t *plan, size_t *len)
{
    return lt_plan_text(&plan->gaps, len);
}

const char *lt_plan_quarantine_rows(const lt_plan_t *plan, size_t *len)
{
    return lt_plan_text(&plan->quarantine, len);
}

const char *lt_plan_batch_rows(const lt_plan_t *plan, size_t *len)
{
    return lt_plan_text(&plan->batches, len);
}

const char *lt_plan_offset_rows(const lt_plan_t *plan, size_t *len)
{
    return lt_plan_text(&plan->offsets, len);
}

const char *lt_plan_progress_rows(const lt_plan_t *plan, size_t *len)
{
    return lt_plan_text(&plan->progress_rows, len);
}

const char *lt_plan_digest_rows(const lt_plan_t *plan, size_t *len)
{
    return lt_plan_text(&plan->digests, len);
}

const char *lt_plan_heartbeat_rows(const lt_plan_t *plan, size_t *len)
{
    return lt_plan_text(&plan->heartbeats, len);
}

const char *lt_plan_manifest_rows(const lt_plan_t *plan, size_t *len)
{
    return lt_plan_text(&plan->manifest, len);
}

const char *lt_plan_complete_rows(const lt_plan_t *plan, size_t *len)
{
    return lt_plan_text(&plan->complete, len);
}

const char *lt_plan_resync_rows(const lt_plan_t *plan, size_t *len)
{
    return lt_plan_text(&plan->resyncs, len);
}

const lt_newest_t *lt_plan_entity_rows(const lt_plan_t *plan)
{
    return plan->newest;
}

int lt_plan_fills_gaps(const lt_plan_t *plan)
{
    for (size_t i = 0; i < plan->n_progress; i++)
        if (plan->progress[i].in_plan && plan->progress[i].fills)
            return 1;
    return 0;
}

lt_plan_counts_t lt_plan_counts(const lt_plan_t *plan)
{
    return plan->counts;
}

int lt_plan_for_commune(const lt_plan_t *plan, const char *code, lt_plan_commune_t *out)
{
    const lt_commune_t *c = lt_registry_by_code(plan->registry, code);
    if (!c || lt_commune_index(c) >= plan->n_progress)
        return -1;
    const lt_plan_progress_t *p = &plan->progress[lt_commune_index(c)];
    if (!p->in_plan)
        return -1;
    *out = (lt_plan_commune_t){.last_seq = p->last_seq,
                               .events = p->events,
                               .batches = p->batches,
                               .duplicates = p->duplicates,
                               .fills = p->fills,
                               .missing = lt_ranges_count(p->missing),
                               .last_recorded_us = p->last_recorded_us};
    return 0;
}

const char *lt_plan_refusal(const lt_plan_t *plan, const char **code)
{
    if (!plan->refusal_code[0])
        return NULL;
    *code = plan->refusal_code;
    return plan->refusal;
}

lt_plan_stats_t lt_plan_stats(const lt_plan_t *plan)
{
    return *plan->stats;
}
