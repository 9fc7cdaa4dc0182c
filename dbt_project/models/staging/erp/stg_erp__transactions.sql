with

source as (
    select * from {{ source('erp', 'transaction') }}
),

renamed as (
    select
        id as transaction_id,
        recordtype as record_type,
        tranid as transaction_number,
        externalid as external_id,
        custbody_q2c_billing_id as billing_id_field,
        -- the billing id behind the record: externalId without `bill-`, else the custom field, else none
        case
            when starts_with(externalid, 'bill-') then substr(externalid, 6)
            else nullif(custbody_q2c_billing_id, '')
        end as billing_key,
        entity as entity_id,
        currency as currency_id,
        postingperiod as posting_period_id,
        trandate as transaction_date,
        status as status_code,
        case
            when coalesce(voided, false) or status = 'V' then 'Voided'
            when recordtype = 'invoice' and status = 'A' then 'Open'
            when recordtype = 'invoice' and status = 'B' then 'Paid In Full'
            when recordtype = 'creditmemo' and status = 'A' then 'Open'
            when recordtype = 'creditmemo' and status = 'B' then 'Fully Applied'
            when recordtype = 'customerpayment' and status = 'A' then 'Not Deposited'
            when recordtype = 'customerpayment' and status = 'B' then 'Deposited'
            when recordtype = 'journalentry' and status = 'A' then 'Pending Approval'
            when recordtype = 'journalentry' and status = 'B' then 'Approved for Posting'
            else status
        end as status_name,
        coalesce(voided, false) as is_voided,
        exchangerate as exchange_rate,
        foreigntotal as total,
        foreignamountpaid as amount_paid,
        foreignamountunpaid as amount_unpaid,
        createdfrom as created_from_transaction_id,
        payload ->> 'memo' as memo,
        createddate as created_at,
        lastmodifieddate as modified_at,
        coalesce(_q2c_deleted, false) as is_deleted,
        -- the ingest run that wrote the row (macros/incremental.sql): erp_transactions builds the changed ones
        {{ load_seq_column(source('erp', 'transaction')) }}
    from source
)

select * from renamed
