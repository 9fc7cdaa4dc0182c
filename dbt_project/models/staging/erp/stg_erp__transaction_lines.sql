with

source as (
    select * from {{ source('erp', 'transactionline') }}
),

renamed as (
    select
        uniquekey as transaction_line_key,
        transaction as transaction_id,
        id as line_id,
        linesequencenumber as line_sequence,
        coalesce(mainline, false) as is_main_line,
        coalesce(taxline, false) as is_tax_line,
        item as item_id,
        expenseaccount as account_id,
        department as department_id,
        subsidiary as subsidiary_id,
        entity as entity_id,
        quantity,
        rate,
        foreignamount as amount,
        netamount as net_amount,
        debitforeignamount as debit_amount,
        creditforeignamount as credit_amount,
        coalesce(_q2c_deleted, false) as is_deleted,
        -- the ingest run that wrote the row (macros/incremental.sql): erp_transactions builds the changed ones
        {{ load_seq_column(source('erp', 'transactionline')) }}
    from source
)

select * from renamed
