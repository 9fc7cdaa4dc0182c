with

source as (
    select * from {{ source('erp', 'accountingperiod_subsidiaryclose') }}
),

renamed as (
    select
        period as period_id,
        subsidiary as subsidiary_id,
        coalesce(closed, false) as is_closed,
        coalesce(_q2c_deleted, false) as is_deleted
    from source
)

select * from renamed
