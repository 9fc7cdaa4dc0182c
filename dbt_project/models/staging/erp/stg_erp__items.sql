with

source as (
    select * from {{ source('erp', 'item') }}
),

renamed as (
    select
        id as item_id,
        itemid as item_name,
        externalid as external_id,
        incomeaccount as income_account_id,
        deferredrevenueaccount as deferred_revenue_account_id,
        coalesce(isinactive, false) as is_inactive,
        coalesce(_q2c_deleted, false) as is_deleted
    from source
)

select * from renamed
