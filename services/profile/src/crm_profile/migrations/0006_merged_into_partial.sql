-- Only merged-away profiles need finding by merged_into (the walk down a survivor's
-- lineage). The full index also matched "merged_into IS NULL", and a plan made while
-- the table was small (asyncpg keeps prepared statements; autovacuum had not analysed
-- yet) read every live profile through it and filtered on the identifiers: the live
-- lookup grew from 1 ms to 60 ms over 10,000 touchpoints, with the GIN index unused.
DROP INDEX identity_profiles_merged_into;
CREATE INDEX identity_profiles_merged_into ON identity_profiles (merged_into)
    WHERE merged_into IS NOT NULL;
