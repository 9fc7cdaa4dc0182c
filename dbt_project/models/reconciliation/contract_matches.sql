-- Every pairing of a closed-won CRM deal with the billing subscription whose metadata names it (and each side
-- alone), with the deal amount beside the subscription's annual contract value.
with

won_deals as (
    select * from {{ ref('deals') }}
    where is_closed_won
),

subscriptions as (
    select * from {{ ref('subscriptions') }}
),

paired as (
    select
        won_deals.deal_id,
        subscriptions.subscription_id,
        coalesce(subscriptions.subsidiary_code, won_deals.subsidiary_code) as subsidiary_code,
        subscriptions.customer_id,
        subscriptions.hubspot_deal_id as deal_id_on_subscription,
        won_deals.closed_at as deal_closed_at,
        subscriptions.created_at as subscription_created_at,
        won_deals.amount as deal_amount,
        subscriptions.contract_value,
        won_deals.currency_code as deal_currency,
        subscriptions.currency_code as subscription_currency
    from won_deals
    full outer join subscriptions on won_deals.deal_id = subscriptions.hubspot_deal_id
)

select
    coalesce(deal_id, '') || '|' || coalesce(subscription_id, '') as contract_match_id,
    deal_id,
    subscription_id,
    deal_id_on_subscription,
    customer_id,
    subsidiary_code,
    deal_closed_at,
    subscription_created_at,
    deal_amount,
    contract_value,
    coalesce(deal_amount, 0) - contract_value as value_difference,
    deal_currency,
    subscription_currency,
    deal_id is not null and subscription_id is not null
    and (
        abs(coalesce(deal_amount, 0) - contract_value) > {{ var('q2c_amount_tolerance') }}
        or coalesce(deal_currency, '') <> coalesce(subscription_currency, '')
    ) as is_value_mismatch,
    case
        when
            subscription_id is null and (deal_closed_at is null or deal_closed_at > {{ settled_before() }})
            then 'pending'
        when subscription_id is null then 'deal_without_subscription'
        when deal_id is null and subscription_created_at > {{ settled_before() }} then 'pending'
        when deal_id is null then 'subscription_without_deal'
        when
            abs(coalesce(deal_amount, 0) - contract_value) > {{ var('q2c_amount_tolerance') }}
            or coalesce(deal_currency, '') <> coalesce(subscription_currency, '') then 'value_mismatch'
        else 'matched'
    end as match_status
from paired
