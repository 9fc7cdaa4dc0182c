with

source as (
    select * from {{ source('billing', 'invoice_payments') }}
),

renamed as (
    select
        id as invoice_payment_id,
        invoice as invoice_id,
        payment_intent as payment_intent_id,
        status as invoice_payment_status,
        upper(currency) as currency_code,
        amount_paid as amount_paid_minor,
        created as created_at,
        coalesce(deleted, false) as is_deleted
    from source
)

select * from renamed
