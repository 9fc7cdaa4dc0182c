-- One row per billing subscription with its annual contract value: Σ over licensed recurring items of
-- quantity × unit_amount × (12 for month, 1 for year, 52 for week, 365 for day) ÷ interval_count, exact decimals.
-- Uses the items' current quantities (the CRM deal is updated on seat amendments); metered usage is excluded.
with

items as (
    select * from {{ ref('stg_billing__subscription_items') }}
    where not is_deleted
),

prices as (
    select * from {{ ref('stg_billing__prices') }}
),

valued as (
    select
        items.subscription_id,
        items.quantity,
        prices.unit_amount,
        prices.recurring_interval,
        coalesce(prices.recurring_interval_count, 1) as interval_count,
        cast(items.quantity * prices.unit_amount as decimal(38, 4))
        * (
            case prices.recurring_interval
                when 'month' then 12 when 'year' then 1 when 'week' then 52 when 'day' then 365
            end
        )
            as annual_amount_before_interval_count
    from items
    inner join prices on items.price_id = prices.price_id
    where prices.recurring_usage_type = 'licensed'
)

select
    subscription_id,
    count(*) as licensed_items,
    -- ÷ interval_count only where it is not 1, so the common case stays an exact DECIMAL product
    cast(
        sum(
            case
                when interval_count = 1 then annual_amount_before_interval_count
                else round(annual_amount_before_interval_count / interval_count, 4)
            end
        ) as decimal(38, 4)
    ) as contract_value
from valued
group by subscription_id
