with

source as (
    select * from {{ source('erp', 'subsidiary') }}
),

renamed as (
    select
        id as subsidiary_id,
        name as subsidiary_name,
        upper(country) as country_code,
        currency as base_currency_id,
        parent as parent_subsidiary_id,
        coalesce(_q2c_deleted, false) as is_deleted
    from source
)

select * from renamed
