-- Identity resolution reads these indexes for every chunk. With GIN's fast update,
-- new entries wait in a pending list that every search scans linearly until a vacuum
-- merges it: with 20,000 fresh touchpoints one lookup took 3.4 ms instead of 0.006 ms.
-- Writing straight into the index costs the insert a little and keeps every read fast.
ALTER INDEX identity_evidence_identifiers SET (fastupdate = off);
ALTER INDEX identity_profiles_identifiers SET (fastupdate = off);
SELECT gin_clean_pending_list('identity_evidence_identifiers');
SELECT gin_clean_pending_list('identity_profiles_identifiers');
