with

source as (
    select * from {{ source('erp', 'account') }}
),

renamed as (
    select
        id as account_id,
        acctnumber as account_number,
        payload ->> 'fullname' as account_name,
        accttype as account_type,
        coalesce(isinactive, false) as is_inactive,
        coalesce(_q2c_deleted, false) as is_deleted
    from source
)

select * from renamed
