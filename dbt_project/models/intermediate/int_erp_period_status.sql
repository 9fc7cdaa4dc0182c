-- One row per (accounting period, subsidiary): whether a posting dated in the period is refused there.
-- Closed when the period's per-subsidiary close line says so, or the period itself is closed.
with

periods as (
    select * from {{ ref('stg_erp__accounting_periods') }}
    where not is_deleted and is_posting and not is_summary and not is_adjustment
),

subsidiaries as (
    select * from {{ ref('stg_erp__subsidiaries') }}
    where not is_deleted
),

closes as (
    select * from {{ ref('stg_erp__period_closes') }}
    where not is_deleted
)

select
    periods.period_id,
    subsidiaries.subsidiary_id,
    periods.period_name,
    periods.start_date,
    periods.end_date,
    periods.is_closed or coalesce(closes.is_closed, false) as is_closed
from periods
cross join subsidiaries
left join closes
    on
        periods.period_id = closes.period_id
        and subsidiaries.subsidiary_id = closes.subsidiary_id
