-- Province schema, created by `lienthong-sink migrate`. Idempotent.
--
-- The sink writes the applied rows, the Kafka offsets and each commune's last
-- applied sequence in ONE transaction per poll round: after any crash the
-- database says exactly where to resume, and Kafka's own offsets are only a
-- copy for lag tools.
CREATE SCHEMA IF NOT EXISTS lt;
--
-- Commune codes, entity types, entity ids and topics are compared byte by
-- byte (COLLATE "C"): they are identifiers, not words, and every round
-- probes the indexes on them thousands of times; a language collation
-- (vi_VN, en_US, even C.UTF-8) costs a tenth of the sink's database time.
-- Names and other text keep the database's collation.

-- Communes registered by `lienthong-sink provision`.
CREATE TABLE IF NOT EXISTS lt.commune (
    commune_code  text COLLATE "C" PRIMARY KEY,
    province_code text NOT NULL,
    name          text NOT NULL,
    events_topic  text NOT NULL UNIQUE,
    control_topic text NOT NULL UNIQUE,
    key_id        text,         -- Ed25519 key id; NULL = integrity hash accepted
    public_key    text,         -- PEM
    registered_at timestamptz NOT NULL DEFAULT now()
);

-- Where to resume reading: the next offset to apply per topic partition.
CREATE TABLE IF NOT EXISTS lt.kafka_offset (
    topic       text COLLATE "C" NOT NULL,
    partition   int    NOT NULL,
    next_offset bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition)
);

-- Per commune: the last applied sequence (duplicates at or below it are skipped).
CREATE TABLE IF NOT EXISTS lt.commune_progress (
    commune_code    text COLLATE "C" PRIMARY KEY,
    last_seq        bigint NOT NULL,
    last_batch_hash bytea,
    events_applied  bigint NOT NULL DEFAULT 0,
    batches_applied bigint NOT NULL DEFAULT 0,
    duplicates_skipped bigint NOT NULL DEFAULT 0,
    last_recorded_at timestamptz,  -- outbox time of the newest applied event
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- When the province last applied an event of the commune (not a duplicate,
-- not a heartbeat): how status tells a stalled sink.
ALTER TABLE lt.commune_progress ADD COLUMN IF NOT EXISTS last_applied_at timestamptz;

-- A jump in a commune's sequence: events from_seq..to_seq never arrived.
CREATE TABLE IF NOT EXISTS lt.seq_gap (
    commune_code text COLLATE "C" NOT NULL,
    from_seq     bigint NOT NULL,
    to_seq       bigint NOT NULL,
    detected_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz,
    PRIMARY KEY (commune_code, from_seq)
);

-- Current state: one row per entity, newest version wins, deletes are tombstones.
CREATE TABLE IF NOT EXISTS lt.entity (
    commune_code text COLLATE "C" NOT NULL,
    entity_type  text COLLATE "C" NOT NULL,
    entity_id    text COLLATE "C" NOT NULL,
    version      bigint  NOT NULL,
    deleted      boolean NOT NULL,
    content_hash bytea,
    payload      jsonb,           -- proto3 JSON of the payload; NULL for tombstones
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL,
    seq          bigint  NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (commune_code, entity_type, entity_id)
);

-- Every applied event once: the primary key makes a second application fail loudly.
CREATE TABLE IF NOT EXISTS lt.event_log (
    commune_code text COLLATE "C" NOT NULL,
    seq          bigint NOT NULL,
    entity_type  text COLLATE "C" NOT NULL,
    entity_id    text COLLATE "C" NOT NULL,
    version      bigint NOT NULL,
    op           text   NOT NULL,
    content_hash bytea,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (commune_code, seq)
);

-- The signed batch chain, for audit.
CREATE TABLE IF NOT EXISTS lt.batch_log (
    commune_code    text COLLATE "C" NOT NULL,
    first_seq       bigint NOT NULL,
    last_seq        bigint NOT NULL,
    batch_hash      bytea  NOT NULL,
    prev_batch_hash bytea,
    key_id          text   NOT NULL,
    signature       bytea  NOT NULL,
    topic           text COLLATE "C" NOT NULL,
    kafka_offset    bigint NOT NULL,
    applied_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, kafka_offset)
);
CREATE INDEX IF NOT EXISTS batch_log_commune ON lt.batch_log (commune_code, first_seq);

-- Messages that could not be applied, with the raw bytes to replay after a fix.
CREATE TABLE IF NOT EXISTS lt.quarantine (
    id            bigserial PRIMARY KEY,
    topic         text COLLATE "C" NOT NULL,
    partition     int    NOT NULL,
    kafka_offset  bigint NOT NULL,
    commune_code  text,
    reason_code   text   NOT NULL,
    reason        text   NOT NULL,
    message_key   bytea,
    raw           bytea  NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    replayed_at   timestamptz,
    UNIQUE (topic, partition, kafka_offset)
);

-- ------------------------------------------------------------------ digests
-- Each commune's current state as a bucketed set digest (proto/lt_digest.h):
-- every entity's bucket and member hash, and per bucket the count and XOR of
-- its members, kept in the round's transaction. Agents send theirs in-band;
-- each comparison is recorded.
ALTER TABLE lt.entity ADD COLUMN IF NOT EXISTS bucket smallint;
ALTER TABLE lt.entity ADD COLUMN IF NOT EXISTS h0 bigint;
ALTER TABLE lt.entity ADD COLUMN IF NOT EXISTS h1 bigint;
ALTER TABLE lt.entity ADD COLUMN IF NOT EXISTS h2 bigint;
ALTER TABLE lt.entity ADD COLUMN IF NOT EXISTS h3 bigint;
-- Set when a resync (the commune's current state, taken whatever the
-- version) last wrote the row.
ALTER TABLE lt.entity ADD COLUMN IF NOT EXISTS resynced_at timestamptz;
-- Rows from before digests: found at once, filled by `migrate`.
CREATE INDEX IF NOT EXISTS entity_without_member ON lt.entity (commune_code)
    WHERE bucket IS NULL;
CREATE INDEX IF NOT EXISTS entity_bucket ON lt.entity (commune_code, bucket);

CREATE TABLE IF NOT EXISTS lt.digest_bucket (
    commune_code text COLLATE "C" NOT NULL,
    bucket       smallint NOT NULL,
    count        bigint   NOT NULL,
    h0           bigint   NOT NULL,
    h1           bigint   NOT NULL,
    h2           bigint   NOT NULL,
    h3           bigint   NOT NULL,
    PRIMARY KEY (commune_code, bucket)
);

-- Every in-band comparison: the commune's digest as of seq against the
-- province's right after applying seq.
CREATE TABLE IF NOT EXISTS lt.digest_check (
    commune_code text COLLATE "C" NOT NULL,
    seq          bigint   NOT NULL,
    checked_at   timestamptz NOT NULL DEFAULT now(),
    equal        boolean  NOT NULL,
    diverged     smallint[] NOT NULL DEFAULT '{}',  -- buckets that differ
    PRIMARY KEY (commune_code, seq)
);

-- The newest heartbeat of each commune's agent: liveness, backlog at the
-- commune, refused rows, the agent's clock (against received_at: skew).
CREATE TABLE IF NOT EXISTS lt.commune_heartbeat (
    commune_code     text COLLATE "C" PRIMARY KEY,
    agent_at         timestamptz NOT NULL,  -- the agent's clock when sent
    received_at      timestamptz NOT NULL,  -- the province's when applied
    outbox_pending   bigint NOT NULL,       -- rows not yet acknowledged by Kafka
    oldest_unsent_at timestamptz,           -- outbox time of the oldest of them
    rows_refused     bigint NOT NULL,
    agent_version    text NOT NULL,
    agent_id         text NOT NULL,
    acked_seq        bigint NOT NULL,
    next_seq         bigint NOT NULL
);

-- Resync requests (lienthong-reconcile repair) and their answers' progress.
CREATE TABLE IF NOT EXISTS lt.resync (
    request_id   text PRIMARY KEY,
    commune_code text COLLATE "C" NOT NULL,
    buckets      smallint[],          -- digest buckets asked for; NULL with all_buckets
    all_buckets  boolean NOT NULL DEFAULT false,
    first_seq    bigint,              -- or a sequence range asked for
    last_seq     bigint,
    requested_at timestamptz NOT NULL DEFAULT now(),
    parts        bigint NOT NULL DEFAULT 0,  -- answer parts applied
    events       bigint NOT NULL DEFAULT 0,  -- states in them
    done_at      timestamptz                 -- the last part applied
);

-- Entities a resync found the commune no longer holds, removed here.
CREATE TABLE IF NOT EXISTS lt.resync_removed (
    commune_code text COLLATE "C" NOT NULL,
    entity_type  text COLLATE "C" NOT NULL,
    entity_id    text COLLATE "C" NOT NULL,
    version      bigint NOT NULL,
    removed_at   timestamptz NOT NULL DEFAULT now()
);

-- ------------------------------------------------------------ typed tables
-- The data teams' tables, kept by the sink in the same transaction as
-- lt.entity: one row per live entity (a delete removes it; the tombstone stays
-- in lt.entity). Names are stored NFC, with a comparison key beside them that
-- matches across tone-mark placement, case and apostrophe style.

-- PartialDate JSON ({"year": 2026, "month": 3}) as text: "2026-03", "2026", ...
CREATE OR REPLACE FUNCTION lt.partial_date_text(d jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN d IS NULL OR NOT (d ? 'year') THEN NULL
        WHEN coalesce((d->>'month')::int, 0) = 0 THEN lpad(d->>'year', 4, '0')
        WHEN coalesce((d->>'day')::int, 0) = 0
            THEN lpad(d->>'year', 4, '0') || '-' || lpad(d->>'month', 2, '0')
        ELSE lpad(d->>'year', 4, '0') || '-' || lpad(d->>'month', 2, '0') || '-'
             || lpad(d->>'day', 2, '0')
    END
$$;

-- A PartialDate JSON as a date when complete, else NULL.
CREATE OR REPLACE FUNCTION lt.partial_date(d jsonb) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN coalesce((d->>'day')::int, 0) > 0
        THEN make_date((d->>'year')::int, (d->>'month')::int, (d->>'day')::int) END
$$;

-- proto3 JSON microseconds ("1795554093820259") as a timestamp.
CREATE OR REPLACE FUNCTION lt.us_time(us text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN us IS NOT NULL AND us <> '0'
        THEN 'epoch'::timestamptz + us::bigint * interval '1 microsecond' END
$$;

CREATE TABLE IF NOT EXISTS lt.civil_record (
    commune_code        text COLLATE "C" NOT NULL,
    entity_id           text COLLATE "C" NOT NULL,
    version             bigint  NOT NULL,
    kind                text    NOT NULL,  -- BIRTH, DEATH, MARRIAGE, RECOGNITION, ...
    registration_kind   text,              -- NEW, LATE, RE_REGISTRATION
    authority           text,              -- registering unit code
    book_number         text,              -- quyển số
    entry_number        text,              -- số
    registered_on       date,              -- NULL when only partly known
    registered_on_text  text,              -- "2026-03-14", "2026-03" or "2026"
    subject_name        text,              -- the child, the deceased, the husband, ...
    subject_name_key    text,              -- comparison key of subject_name
    subject_personal_id text,
    event_date_text     text,              -- birth, death or marriage date as known
    place_code          text,
    registered_late     boolean NOT NULL DEFAULT false, -- birth > 60 days, death > 15 days
    occurred_at         timestamptz NOT NULL,
    payload             jsonb   NOT NULL,
    applied_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (commune_code, entity_id)
);
CREATE INDEX IF NOT EXISTS civil_record_personal_id ON lt.civil_record (subject_personal_id);
CREATE INDEX IF NOT EXISTS civil_record_name_key ON lt.civil_record (subject_name_key);
CREATE INDEX IF NOT EXISTS civil_record_kind_date ON lt.civil_record (kind, registered_on);

CREATE TABLE IF NOT EXISTS lt.dossier (
    commune_code        text COLLATE "C" NOT NULL,
    entity_id           text COLLATE "C" NOT NULL,
    version             bigint NOT NULL,
    dossier_code        text   NOT NULL,
    procedure_code      text,
    receiving_agency    text,
    status              text   NOT NULL,  -- NEW, ACCEPTED, IN_PROCESS, ... RESULT_RETURNED
    channel             text,              -- IN_PERSON, ONLINE, POSTAL
    applicant_type      text,              -- CITIZEN, BUSINESS
    applicant_name      text,
    applicant_name_key  text,
    business_name       text,
    received_at         timestamptz,
    due_at              timestamptz,
    finished_at         timestamptz,
    returned_at         timestamptz,
    timeliness          text,              -- ON_TIME, LATE
    payload             jsonb  NOT NULL,
    applied_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (commune_code, entity_id)
);
CREATE INDEX IF NOT EXISTS dossier_code ON lt.dossier (dossier_code);
CREATE INDEX IF NOT EXISTS dossier_status ON lt.dossier (status);
CREATE INDEX IF NOT EXISTS dossier_due ON lt.dossier (due_at);
CREATE INDEX IF NOT EXISTS dossier_applicant_key ON lt.dossier (applicant_name_key);

CREATE TABLE IF NOT EXISTS lt.dossier_history (
    commune_code text COLLATE "C" NOT NULL,
    entity_id    text COLLATE "C" NOT NULL,
    step         int    NOT NULL,   -- 1 = first status
    status       text   NOT NULL,
    at           timestamptz,
    by_officer   text,
    note         text,
    PRIMARY KEY (commune_code, entity_id, step)
);

-- Open dossiers past their due time, per commune.
CREATE OR REPLACE VIEW lt.overdue_dossiers_per_commune AS
SELECT d.commune_code, c.name AS commune_name, count(*) AS overdue,
       min(d.due_at) AS oldest_due_at
FROM lt.dossier d LEFT JOIN lt.commune c USING (commune_code)
WHERE d.due_at < now()
  AND d.status NOT IN ('NOT_ACCEPTED', 'WITHDRAWN', 'PROCESSING_STOPPED', 'PROCESSED',
                       'RESULT_RETURNED')
GROUP BY d.commune_code, c.name;

-- Civil-status registrations per month, kind and registration kind.
CREATE OR REPLACE VIEW lt.registrations_per_month AS
SELECT commune_code, left(registered_on_text, 7) AS month, kind,
       coalesce(registration_kind, 'NEW') AS registration_kind, count(*) AS registrations,
       count(*) FILTER (WHERE registered_late) AS registered_late
FROM lt.civil_record
WHERE length(registered_on_text) >= 7
GROUP BY 1, 2, 3, 4;

-- ---------------------------------------------------------------- mergers
-- `lienthong-reconcile merge --into NEW --from OLD...`: the old communes'
-- records move to the new commune, which owns them from then on (it sends
-- their later changes); each record keeps the code of the commune that first
-- sent it in origin_code, and its payload keeps the unit that registered it.
-- An old commune is retired: its event log, batches and progress stay as its
-- history, and anything new on its topic is quarantined naming the merger.
ALTER TABLE lt.commune ADD COLUMN IF NOT EXISTS merged_into text COLLATE "C" REFERENCES lt.commune;
ALTER TABLE lt.commune ADD COLUMN IF NOT EXISTS retired_at timestamptz;
ALTER TABLE lt.entity ADD COLUMN IF NOT EXISTS origin_code text COLLATE "C";
ALTER TABLE lt.civil_record ADD COLUMN IF NOT EXISTS origin_code text COLLATE "C";
ALTER TABLE lt.dossier ADD COLUMN IF NOT EXISTS origin_code text COLLATE "C";

CREATE TABLE IF NOT EXISTS lt.commune_merge (
    old_code   text COLLATE "C" PRIMARY KEY REFERENCES lt.commune,
    new_code   text COLLATE "C" NOT NULL REFERENCES lt.commune,
    partial    boolean NOT NULL,  -- the 2025 mapping: only part of the old unit went
    last_seq   bigint NOT NULL,   -- the old commune's last applied sequence
    entities   bigint NOT NULL,   -- records moved
    superseded bigint NOT NULL,   -- records both held: the newer version kept
    merged_at  timestamptz NOT NULL DEFAULT now()
);

-- A sink round planned before a merger must not apply a retired commune's
-- events after it: the progress of a retired commune never moves, and the
-- error (serialization_failure) makes the sink reload its communes and plan
-- again, which quarantines the batch.
CREATE OR REPLACE FUNCTION lt.refuse_retired_progress() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.last_seq IS DISTINCT FROM OLD.last_seq AND EXISTS (
           SELECT 1 FROM lt.commune c
           WHERE c.commune_code = NEW.commune_code AND c.merged_into IS NOT NULL) THEN
        RAISE EXCEPTION 'commune % was merged: its progress is final', NEW.commune_code
            USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS commune_progress_retired ON lt.commune_progress;
CREATE TRIGGER commune_progress_retired BEFORE UPDATE ON lt.commune_progress
    FOR EACH ROW EXECUTE FUNCTION lt.refuse_retired_progress();
