-- The detected exceptions with their stable id, the amount at risk in the reporting currency (USD, at the latest
-- fx_rates_daily rate on or before now's date), owner and suggested action from the catalog, and severity:
-- the higher of the type's base severity and the amount band (≥ 10,000 USD critical, ≥ 1,000 high, ≥ 100 medium).
with

detected as (
    select * from {{ ref('int_exceptions_detected') }}
),

catalog as (
    select * from {{ ref('int_exception_catalog') }}
),

fx_rates as (
    select * from {{ ref('fx_rates_daily') }}
    where rate_date <= cast(timezone('UTC', {{ q2c_now() }}) as date)
),

latest_rates as (
    select
        currency_code,
        arg_max(usd_per_unit, rate_date) as usd_per_unit
    from fx_rates
    group by currency_code
),

valued as (
    select
        detected.*,
        -- both factors narrowed first so the exact DECIMAL product fits in 38 digits
        cast(
            round(
                cast(detected.amount_at_risk as decimal(24, 4)) * cast(latest_rates.usd_per_unit as decimal(12, 8)), 2
            )
            as decimal(38, 2)
        ) as amount_at_risk_reporting,
        catalog.owner_domain,
        catalog.base_severity,
        catalog.suggested_action
    from detected
    left join latest_rates on upper(detected.currency_code) = latest_rates.currency_code
    left join catalog on detected.exception_type = catalog.exception_type
),

banded as (
    select
        *,
        case
            when amount_at_risk_reporting >= 10000 then 4
            when amount_at_risk_reporting >= 1000 then 3
            when amount_at_risk_reporting >= 100 then 2
            else 1
        end as amount_rank,
        case base_severity when 'critical' then 4 when 'high' then 3 when 'medium' then 2 else 1 end as base_rank
    from valued
)

select
    md5(exception_type || '|' || subject_key) as exception_id,
    exception_type,
    subject_key,
    subsidiary_code as subsidiary,
    upper(currency_code) as currency,
    cast(amount_at_risk as decimal(38, 4)) as amount_at_risk,
    amount_at_risk_reporting,
    case greatest(amount_rank, base_rank) when 4 then 'critical' when 3 then 'high' when 2 then 'medium' else 'low' end
        as severity,
    owner_domain,
    detail,
    suggested_action
from banded
