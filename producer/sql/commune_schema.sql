-- Commune schema, created by `lienthong-agent init`. Idempotent.
--
-- The commune system writes each change and its outbox row in ONE transaction.
-- The agent is the only writer of outbox.seq: it numbers committed rows in id
-- order, so a row whose transaction commits late is numbered late, never skipped.
CREATE SCHEMA IF NOT EXISTS lt;

CREATE TABLE IF NOT EXISTS lt.outbox (
    id            bigserial PRIMARY KEY,
    entity_type   text        NOT NULL CHECK (entity_type IN ('civil_record', 'dossier')),
    entity_id     text        NOT NULL CHECK (length(entity_id) BETWEEN 1 AND 128),
    version       bigint      NOT NULL CHECK (version > 0),
    op            text        NOT NULL CHECK (op IN ('upsert', 'delete')),
    occurred_at   timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    payload       jsonb,                   -- proto3 JSON of CivilRecord or Dossier
    seq           bigint UNIQUE,           -- commune sequence, set by the agent
    sent_at       timestamptz,             -- set from Kafka's delivery report only
    rejected_at   timestamptz,             -- the agent refused the row (see reason)
    reject_reason text,
    CHECK ((op = 'delete') = (payload IS NULL))
);
CREATE INDEX IF NOT EXISTS outbox_unassigned ON lt.outbox (id)
    WHERE seq IS NULL AND rejected_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_unsent ON lt.outbox (seq)
    WHERE seq IS NOT NULL AND sent_at IS NULL;
-- A version names one change of an entity: writing it twice (a re-run import,
-- a retried job) must not send it twice.
CREATE UNIQUE INDEX IF NOT EXISTS outbox_entity_version
    ON lt.outbox (entity_type, entity_id, version);

-- The outbox grows in bursts (imports, days offline); stale statistics would
-- make the claim query sort the whole backlog. Analyze early and often.
ALTER TABLE lt.outbox SET (autovacuum_analyze_scale_factor = 0.02,
                           autovacuum_analyze_threshold = 1000);

CREATE TABLE IF NOT EXISTS lt.agent_state (
    commune_code    text PRIMARY KEY,
    next_seq        bigint NOT NULL DEFAULT 1,  -- the next sequence to assign
    acked_seq       bigint NOT NULL DEFAULT 0,  -- every seq <= this is in Kafka
    last_batch_hash bytea,                      -- SHA-256 of the last delivered batch
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The commune's current state as sent, newest version per entity; the
-- province holds the same rows, which is what the digests compare. Types and
-- ids are identifiers, compared byte by byte (COLLATE "C", as at the province):
-- every claim probes the primary key once per row.
CREATE TABLE IF NOT EXISTS lt.entity_state (
    entity_type  text COLLATE "C" NOT NULL,
    entity_id    text COLLATE "C" NOT NULL,
    version      bigint  NOT NULL,
    deleted      boolean NOT NULL,
    content_hash bytea,
    seq          bigint  NOT NULL,
    PRIMARY KEY (entity_type, entity_id)
);

-- The digest of entity_state (see proto/lt_digest.h): each state's bucket and
-- member hash, and per bucket the count and XOR of its members, kept by the
-- agent in the claim's transaction. The province keeps the same per commune;
-- equal buckets mean equal data.
ALTER TABLE lt.entity_state ADD COLUMN IF NOT EXISTS bucket smallint;
ALTER TABLE lt.entity_state ADD COLUMN IF NOT EXISTS h0 bigint;
ALTER TABLE lt.entity_state ADD COLUMN IF NOT EXISTS h1 bigint;
ALTER TABLE lt.entity_state ADD COLUMN IF NOT EXISTS h2 bigint;
ALTER TABLE lt.entity_state ADD COLUMN IF NOT EXISTS h3 bigint;
CREATE INDEX IF NOT EXISTS entity_state_bucket ON lt.entity_state (bucket);

CREATE TABLE IF NOT EXISTS lt.digest_bucket (
    bucket smallint PRIMARY KEY,
    count  bigint NOT NULL,
    h0     bigint NOT NULL,
    h1     bigint NOT NULL,
    h2     bigint NOT NULL,
    h3     bigint NOT NULL
);

-- Resync requests from the province (lt.<PP>.<CCCCC>.control), recorded with
-- the control offset in one transaction so each is answered once, and their
-- progress, so an answer resumes after a restart.
ALTER TABLE lt.agent_state ADD COLUMN IF NOT EXISTS control_offset bigint NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS lt.resync_request (
    request_id  text PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    buckets     smallint[] NOT NULL DEFAULT '{}', -- digest buckets still to send
    first_seq   bigint,                           -- or a range still to send
    last_seq    bigint,
    done_at     timestamptz
);

-- Retention: the province confirms (on the control topic) the sequence its
-- digest last equalled with no gap; sent rows up to it, older than
-- agent.purge_sent_after_s and holding no current state, are purged.
ALTER TABLE lt.agent_state ADD COLUMN IF NOT EXISTS confirmed_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE lt.agent_state ADD COLUMN IF NOT EXISTS purged_rows bigint NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS entity_state_seq ON lt.entity_state (seq);

-- A request may name entities ([[type, id], ...]); entities_done counts those
-- already answered, so an answer resumes after a restart.
ALTER TABLE lt.resync_request ADD COLUMN IF NOT EXISTS entities jsonb;
ALTER TABLE lt.resync_request ADD COLUMN IF NOT EXISTS entities_done int NOT NULL DEFAULT 0;

-- A committed insert into the outbox wakes the agent at once (it LISTENs on
-- lt_outbox; one notification per transaction, sent at commit). Without it
-- the agent still finds new rows, agent.poll_interval_ms later.
CREATE OR REPLACE FUNCTION lt.outbox_notify() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('lt_outbox', '');
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS outbox_notify ON lt.outbox;
CREATE TRIGGER outbox_notify AFTER INSERT ON lt.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION lt.outbox_notify();
