with

source as (
    select * from {{ source('crm', 'deals') }}
),

renamed as (
    select
        id as deal_id,
        payload -> 'properties' ->> 'dealname' as deal_name,
        payload -> 'properties' ->> 'dealstage' as deal_stage,
        payload -> 'properties' ->> 'dealstage' = 'closedwon' as is_closed_won,
        cast(payload -> 'properties' ->> 'closedate' as timestamptz) as closed_at,
        -- HubSpot properties are strings: the amount is parsed as an exact decimal
        cast(payload -> 'properties' ->> 'amount' as decimal(38, 4)) as amount,
        upper(deal_currency_code) as currency_code,
        stripe_subscription_id,
        merged_into as merged_into_deal_id,
        coalesce(archived, false) as is_archived,
        cast(payload ->> 'createdAt' as timestamptz) as created_at,
        updated_at
    from source
)

select * from renamed
