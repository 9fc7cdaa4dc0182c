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
        {{ annual_item_value('items.quantity', 'prices.unit_amount', 'prices.recurring_interval',
            'prices.recurring_interval_count') }} as annual_value
    from items
    inner join prices on items.price_id = prices.price_id
    where prices.recurring_usage_type = 'licensed'
)

select
    subscription_id,
    count(*) as licensed_items,
    cast(sum(annual_value) as decimal(38, 4)) as contract_value
from valued
group by subscription_id
