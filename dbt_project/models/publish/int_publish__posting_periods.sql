{{ config(schema='intermediate') }}
-- One row per (accounting period, subsidiary) with the first open period starting at or after it, so that a
-- posting dated in a closed period can move there under q2c_closed_period_policy = next_open.
with

periods as (
    select * from {{ ref('int_erp_period_status') }}
),

open_periods as (
    select * from periods
    where not is_closed
)

select
    periods.subsidiary_id,
    periods.period_id,
    periods.period_name,
    periods.start_date,
    periods.end_date,
    periods.is_closed,
    next_open.period_id as next_open_period_id,
    next_open.start_date as next_open_start_date
from periods
left join open_periods as next_open
    on
        periods.subsidiary_id = next_open.subsidiary_id
        and periods.start_date <= next_open.start_date
qualify row_number() over (
    partition by periods.subsidiary_id, periods.period_id order by next_open.start_date nulls last
) = 1
