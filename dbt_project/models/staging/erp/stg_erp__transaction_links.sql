with

source as (
    select * from {{ source('erp', 'previoustransactionlinelink') }}
),

renamed as (
    select
        link_key,
        previousdoc as applied_to_transaction_id,
        previoustype as applied_to_type,
        nextdoc as applying_transaction_id,
        nexttype as applying_type,
        linktype as link_type,
        foreignamount as amount,
        linkdate as link_date,
        coalesce(_q2c_deleted, false) as is_deleted
    from source
)

select * from renamed
