-- One row per version of a subscription's contract: each time an item's price or quantity changed (as seen by
-- successive runs), with the annualised contract value of that version's licensed items.
with

versions as (
    select * from {{ ref('subscription_item_versions') }}
),

live_versions as (
    -- the item versions a contract version can hold (a removed item's last version holds nothing)
    select * from versions
    where not is_deleted
),

prices as (
    select * from {{ ref('stg_billing__prices') }}
),

changes as (
    -- every moment the set of items of a subscription changed opens a new contract version
    select distinct
        subscription_id,
        dbt_valid_from as valid_from
    from versions
    union distinct
    select distinct
        subscription_id,
        dbt_valid_to as valid_from
    from versions
    where dbt_valid_to is not null
),

bounded as (
    select
        subscription_id,
        valid_from,
        lead(valid_from) over (partition by subscription_id order by valid_from) as valid_to
    from changes
)

select
    bounded.subscription_id,
    row_number() over (partition by bounded.subscription_id order by bounded.valid_from) as contract_version,
    bounded.valid_from,
    bounded.valid_to,
    bounded.valid_to is null as is_current,
    count(versions.subscription_item_id) as item_count,
    sum(versions.quantity) filter (where prices.recurring_usage_type = 'licensed') as licensed_quantity,
    coalesce(sum(
        {{ annual_item_value('versions.quantity', 'prices.unit_amount', 'prices.recurring_interval',
            'prices.recurring_interval_count') }}
    ) filter (where prices.recurring_usage_type = 'licensed'), 0) as annual_contract_value
from bounded
-- only comparisons in the condition, so the join hashes on the subscription (an OR, or a condition on one side,
-- makes DuckDB compare every pair of rows: quadratic in the subscriptions)
left join live_versions as versions
    on
        bounded.subscription_id = versions.subscription_id
        and bounded.valid_from >= versions.dbt_valid_from
        and bounded.valid_from < coalesce(versions.dbt_valid_to, cast('infinity' as timestamp))
left join prices on versions.price_id = prices.price_id
group by bounded.subscription_id, bounded.valid_from, bounded.valid_to
