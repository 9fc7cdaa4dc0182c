with

source as (
    select * from {{ source('billing', 'customers') }}
),

renamed as (
    select
        id as customer_id,
        payload ->> 'name' as customer_name,
        email,
        upper(currency) as currency_code,
        upper(payload -> 'address' ->> 'country') as country_code,
        payload -> 'metadata' ->> 'hubspot_company_id' as hubspot_company_id,
        upper(payload -> 'metadata' ->> 'subsidiary') as subsidiary_code,
        created as created_at,
        coalesce(deleted, false) as is_deleted
    from source
)

select * from renamed
