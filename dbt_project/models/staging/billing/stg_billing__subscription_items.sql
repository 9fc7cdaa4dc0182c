with

source as (
    select * from {{ source('billing', 'subscription_items') }}
),

renamed as (
    select
        id as subscription_item_id,
        subscription as subscription_id,
        price as price_id,
        payload -> 'price' ->> 'product' as product_id,
        quantity,
        created as created_at,
        coalesce(deleted, false) as is_deleted
    from source
)

select * from renamed
