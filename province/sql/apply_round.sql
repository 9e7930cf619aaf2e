-- One poll round, inside the round's transaction, after the sink has COPYed
-- every event into lt.event_log and the newest version of each entity the
-- round touches into lt_stage (one row per entity; the rows are built by
-- province/lt_plan.c, this file is run by province/lt_store.c).

-- Temporary tables get no statistics from autovacuum: without these the
-- planner guesses, and a round of ten events hash-joins the whole typed tables.
-- Only the join keys: statistics of the payloads (jsonb) cost as much as
-- writing them and no plan uses them.
ANALYZE lt_stage (commune_code, entity_type, entity_id);

-- Newest version wins; a delete leaves a tombstone that keeps its version.
-- (The default collation: in a join the real table's collation wins, and
-- the join uses its index.)
CREATE TEMP TABLE IF NOT EXISTS lt_changed (
    commune_code text, entity_type text, entity_id text, version bigint, deleted boolean)
    ON COMMIT DELETE ROWS;
-- The digest follows in the same statement: every part of it sees lt.entity
-- as it was before, so `old` holds the states being replaced, whose members
-- leave their bucket as the new ones join it (proto/lt_digest.h).
-- `old` is one primary-key probe per staged row (LIMIT 1 keeps the planner
-- from turning it into a join): with statistics of a young lt.entity it
-- hash-joined the whole table in every round, 4.8 s instead of 0.2 s for
-- 3,500 events (four sinks loading a fresh database).
WITH old AS (
    SELECT s.commune_code, s.entity_type, s.entity_id, e.h0, e.h1, e.h2, e.h3
    FROM lt_stage s CROSS JOIN LATERAL (
        SELECT e.h0, e.h1, e.h2, e.h3 FROM lt.entity e
        WHERE e.commune_code = s.commune_code AND e.entity_type = s.entity_type
          AND e.entity_id = s.entity_id
        LIMIT 1) e),
up AS (
    INSERT INTO lt.entity AS e (commune_code, entity_type, entity_id, version, deleted,
                                content_hash, payload, occurred_at, recorded_at, seq,
                                bucket, h0, h1, h2, h3, resynced_at)
    SELECT commune_code, entity_type, entity_id, version, op = 'delete', content_hash,
           payload, 'epoch'::timestamptz + occurred_us * interval '1 microsecond',
           'epoch'::timestamptz + recorded_us * interval '1 microsecond', seq,
           bucket, h0, h1, h2, h3, CASE WHEN force THEN now() END
    FROM lt_stage
    ON CONFLICT (commune_code, entity_type, entity_id) DO UPDATE SET
        version = EXCLUDED.version, deleted = EXCLUDED.deleted,
        content_hash = EXCLUDED.content_hash, payload = EXCLUDED.payload,
        occurred_at = EXCLUDED.occurred_at, recorded_at = EXCLUDED.recorded_at,
        seq = EXCLUDED.seq, applied_at = now(), bucket = EXCLUDED.bucket,
        h0 = EXCLUDED.h0, h1 = EXCLUDED.h1, h2 = EXCLUDED.h2, h3 = EXCLUDED.h3,
        resynced_at = EXCLUDED.resynced_at
    WHERE e.version < EXCLUDED.version
       OR (EXCLUDED.resynced_at IS NOT NULL AND (e.version, e.deleted, e.content_hash)
           IS DISTINCT FROM (EXCLUDED.version, EXCLUDED.deleted, EXCLUDED.content_hash))
    RETURNING commune_code, entity_type, entity_id, version, deleted, bucket, h0, h1, h2, h3),
changed AS (
    INSERT INTO lt_changed SELECT commune_code, entity_type, entity_id, version, deleted FROM up)
INSERT INTO lt.digest_bucket AS g (commune_code, bucket, count, h0, h1, h2, h3)
SELECT up.commune_code, up.bucket, count(*) FILTER (WHERE old.entity_id IS NULL),
       bit_xor(up.h0 # coalesce(old.h0, 0)), bit_xor(up.h1 # coalesce(old.h1, 0)),
       bit_xor(up.h2 # coalesce(old.h2, 0)), bit_xor(up.h3 # coalesce(old.h3, 0))
FROM up LEFT JOIN old USING (commune_code, entity_type, entity_id)
GROUP BY up.commune_code, up.bucket
ON CONFLICT (commune_code, bucket) DO UPDATE SET count = g.count + EXCLUDED.count,
    h0 = g.h0 # EXCLUDED.h0, h1 = g.h1 # EXCLUDED.h1, h2 = g.h2 # EXCLUDED.h2,
    h3 = g.h3 # EXCLUDED.h3;
ANALYZE lt_changed;

-- The typed tables follow lt.entity, for the rows this round changed.
DELETE FROM lt.civil_record t USING lt_changed x
WHERE x.entity_type = 'civil_record' AND x.deleted
  AND t.commune_code = x.commune_code AND t.entity_id = x.entity_id;

INSERT INTO lt.civil_record AS t (commune_code, entity_id, version, kind, registration_kind,
    authority, book_number, entry_number, registered_on, registered_on_text, subject_name,
    subject_name_key, subject_personal_id, event_date_text, place_code, registered_late,
    occurred_at, payload)
SELECT s.commune_code, s.entity_id, s.version,
       replace(s.payload->>'kind', 'CIVIL_RECORD_KIND_', ''),
       replace(s.payload->'registration'->>'kind', 'REGISTRATION_KIND_', ''),
       s.payload->'registration'->>'authority',
       s.payload->'registration'->>'bookNumber',
       s.payload->'registration'->>'entryNumber',
       lt.partial_date(s.payload->'registration'->'registeredOn'),
       lt.partial_date_text(s.payload->'registration'->'registeredOn'),
       nullif(s.subject_name, ''), nullif(s.subject_name_key, ''), nullif(s.personal_id, ''),
       lt.partial_date_text(coalesce(s.payload->'birth'->'child'->'dateOfBirth',
                                     s.payload->'death'->'dateOfDeath',
                                     s.payload->'marriage'->'marriedOn')),
       coalesce(s.payload->'birth'->'place'->>'code', s.payload->'death'->'place'->>'code',
                s.payload->'marriage'->'place'->>'code'),
       s.late, 'epoch'::timestamptz + s.occurred_us * interval '1 microsecond', s.payload
FROM lt_changed x
JOIN lt_stage s ON s.commune_code = x.commune_code AND s.entity_type = x.entity_type
               AND s.entity_id = x.entity_id
WHERE x.entity_type = 'civil_record' AND NOT x.deleted
ON CONFLICT (commune_code, entity_id) DO UPDATE SET
    version = EXCLUDED.version, kind = EXCLUDED.kind,
    registration_kind = EXCLUDED.registration_kind, authority = EXCLUDED.authority,
    book_number = EXCLUDED.book_number, entry_number = EXCLUDED.entry_number,
    registered_on = EXCLUDED.registered_on, registered_on_text = EXCLUDED.registered_on_text,
    subject_name = EXCLUDED.subject_name, subject_name_key = EXCLUDED.subject_name_key,
    subject_personal_id = EXCLUDED.subject_personal_id,
    event_date_text = EXCLUDED.event_date_text, place_code = EXCLUDED.place_code,
    registered_late = EXCLUDED.registered_late, occurred_at = EXCLUDED.occurred_at,
    payload = EXCLUDED.payload, applied_at = now();

DELETE FROM lt.dossier t USING lt_changed x
WHERE x.entity_type = 'dossier' AND x.deleted
  AND t.commune_code = x.commune_code AND t.entity_id = x.entity_id;

INSERT INTO lt.dossier AS t (commune_code, entity_id, version, dossier_code, procedure_code,
    receiving_agency, status, channel, applicant_type, applicant_name, applicant_name_key,
    business_name, received_at, due_at, finished_at, returned_at, timeliness, payload)
SELECT s.commune_code, s.entity_id, s.version, s.payload->>'dossierCode',
       s.payload->>'procedureCode', s.payload->>'receivingAgency',
       replace(s.payload->>'status', 'DOSSIER_STATUS_', ''),
       replace(s.payload->>'channel', 'DOSSIER_CHANNEL_', ''),
       replace(s.payload->'applicant'->>'type', 'APPLICANT_TYPE_', ''),
       nullif(s.subject_name, ''), nullif(s.subject_name_key, ''),
       s.payload->'applicant'->>'businessName',
       lt.us_time(s.payload->>'receivedAtUs'), lt.us_time(s.payload->>'dueAtUs'),
       lt.us_time(s.payload->>'finishedAtUs'), lt.us_time(s.payload->>'returnedAtUs'),
       replace(s.payload->>'timeliness', 'DOSSIER_TIMELINESS_', ''), s.payload
FROM lt_changed x
JOIN lt_stage s ON s.commune_code = x.commune_code AND s.entity_type = x.entity_type
               AND s.entity_id = x.entity_id
WHERE x.entity_type = 'dossier' AND NOT x.deleted
ON CONFLICT (commune_code, entity_id) DO UPDATE SET
    version = EXCLUDED.version, dossier_code = EXCLUDED.dossier_code,
    procedure_code = EXCLUDED.procedure_code, receiving_agency = EXCLUDED.receiving_agency,
    status = EXCLUDED.status, channel = EXCLUDED.channel,
    applicant_type = EXCLUDED.applicant_type, applicant_name = EXCLUDED.applicant_name,
    applicant_name_key = EXCLUDED.applicant_name_key, business_name = EXCLUDED.business_name,
    received_at = EXCLUDED.received_at, due_at = EXCLUDED.due_at,
    finished_at = EXCLUDED.finished_at, returned_at = EXCLUDED.returned_at,
    timeliness = EXCLUDED.timeliness, payload = EXCLUDED.payload, applied_at = now();

DELETE FROM lt.dossier_history h USING lt_changed x
WHERE x.entity_type = 'dossier'
  AND h.commune_code = x.commune_code AND h.entity_id = x.entity_id;

INSERT INTO lt.dossier_history (commune_code, entity_id, step, status, at, by_officer, note)
SELECT d.commune_code, d.entity_id, h.step::int,
       replace(h.change->>'status', 'DOSSIER_STATUS_', ''), lt.us_time(h.change->>'atUs'),
       h.change->>'by', h.change->>'note'
FROM lt_changed x
JOIN lt.dossier d ON d.commune_code = x.commune_code AND d.entity_id = x.entity_id
CROSS JOIN LATERAL jsonb_array_elements(d.payload->'history') WITH ORDINALITY AS h(change, step)
WHERE x.entity_type = 'dossier' AND NOT x.deleted;
