with

source as (
    select * from {{ source('erp', 'currency') }}
),

renamed as (
    select
        id as currency_id,
        upper(symbol) as currency_code,
        exchangerate as exchange_rate,
        currencyprecision as currency_precision,
        coalesce(isbasecurrency, false) as is_base_currency,
        coalesce(_q2c_deleted, false) as is_deleted
    from source
)

select * from renamed
