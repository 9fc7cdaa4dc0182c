with

source as (
    select * from {{ source('billing', 'products') }}
),

renamed as (
    select
        id as product_id,
        payload ->> 'name' as product_name,
        payload -> 'metadata' ->> 'sku' as sku,
        payload ->> 'unit_label' as unit_label,
        active as is_active,
        created as created_at,
        coalesce(deleted, false) as is_deleted
    from source
)

select * from renamed
