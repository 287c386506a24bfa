-- A period export seen as the daily snapshot of $snapshot_date: what a source system held at that
-- snapshot's cut-off ($as_of), worked out from each record's own times.
-- Rule (snapshots, source-exports.md): a snapshot holds every record created or updated in the
-- lookback window before its cut-off (from $window_start), in its state at the cut-off.
-- A record's state at the cut-off is its version valid then (<source>_versions.sql holds the rules
-- of how each source's records stood); a record has none before it existed.
-- source_versions: the versions of the source being worked out (pipelines/backfill.py points it
-- at incidents_versions, crimes_versions and referrals_versions in turn).
with

-- Not materialized: each use below reads what it needs of the versions (a copy of the records would
-- cost as much as the snapshot itself).
held_then as not materialized (
    select * exclude (valid_from, valid_to)
    from source_versions
    where valid_from < $as_of and $as_of <= valid_to
        -- A record last updated before the window was not in the snapshot then either.
        and updated_at >= $window_start
),

-- Numbered from 0 in file order, as a daily snapshot's rows are (the rules use the number as
-- an id that runs below the row count): only the numbers are sorted, not the records, and as
-- integers (a narrower key sorts faster).
snapshot_row_numbers as (
    select file_row_number, row_number() over (order by cast(file_row_number as integer)) - 1 as snapshot_row_number
    from held_then
)

-- With the partition columns a daily snapshot's file carries in the lake.
select
    held_then.* replace (snapshot_row_numbers.snapshot_row_number as file_row_number),
    cast($force_code as varchar) as force,
    cast($snapshot_date as date) as snapshot_date,
from held_then
join snapshot_row_numbers on snapshot_row_numbers.file_row_number = held_then.file_row_number
