with

source as (
    select * from {{ source('billing', 'subscriptions') }}
),

renamed as (
    select
        id as subscription_id,
        customer as customer_id,
        status as subscription_status,
        upper(currency) as currency_code,
        payload -> 'metadata' ->> 'hubspot_deal_id' as hubspot_deal_id,
        payload ->> 'collection_method' as collection_method,
        {{ unix_to_utc("payload ->> 'start_date'") }} as started_at,
        {{ unix_to_utc("payload ->> 'canceled_at'") }} as canceled_at,
        {{ unix_to_utc("payload ->> 'ended_at'") }} as ended_at,
        created as created_at,
        coalesce(deleted, false) as is_deleted
    from source
)

select * from renamed
