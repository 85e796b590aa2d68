-- The projection stores the facts it folds (JSON, crm_customer_view.adapters.fact_codec)
-- instead of the events' envelopes, so that an erasure can rewrite them and nothing
-- else an event carried stays behind (docs/customer-view.md, "Erasure").
-- Expand step: rows written before this migration keep their envelope and are read as
-- before; the projection rewrites each one as facts when it next loads it, and a
-- rebuild (--replace) rewrites them all. A later migration drops the envelope column.
ALTER TABLE view_events
    ADD COLUMN facts jsonb,
    ALTER COLUMN envelope DROP NOT NULL,
    ADD CONSTRAINT view_events_stored CHECK (facts IS NOT NULL OR envelope IS NOT NULL);
