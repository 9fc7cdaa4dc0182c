-- One row per posting the gate holds back (never pushed), in either posting mode, with a reason code the
-- reconciliation maps to its exceptions: PRODUCT_UNMAPPED, POSTING_PERIOD_CLOSED, REFERENCE_MISSING, UNBALANCED,
-- INVOICE_QUARANTINED (a payment or credit note of a quarantined invoice).
with

customers as (
    select * from {{ ref('erp_customers') }}
    where validation_status = 'quarantined'
),

invoices as (
    select * from {{ ref('int_publish__invoice_postings') }}
    where validation_status = 'quarantined'
),

memos as (
    select * from {{ ref('int_publish__credit_memo_postings') }}
    where validation_status = 'quarantined'
),

payments as (
    select * from {{ ref('int_publish__payment_postings') }}
    where validation_status = 'quarantined'
),

journals as (
    select * from {{ ref('erp_journal_entries') }}
    where validation_status = 'quarantined'
),

held as (
    select
        external_id,
        'customer' as record_type,
        subject_key,
        reason_code,
        quarantine_reason,
        subject_key as reason_subject_key,
        customer_id,
        false as is_customer_missing_in_erp,
        subsidiary_code,
        erp_subsidiary_id,
        currency_code,
        cast(null as decimal(38, 4)) as amount,
        cast(null as date) as posting_date
    from customers
    union all
    select
        external_id,
        'invoice' as record_type,
        invoice_id as subject_key,
        reason_code,
        quarantine_reason,
        reason_subject_key,
        customer_id,
        erp_customer_id is null as is_customer_missing_in_erp,
        subsidiary_code,
        erp_subsidiary_id,
        currency_code,
        total as amount,
        posting_date
    from invoices
    union all
    select
        external_id,
        'creditMemo' as record_type,
        credit_note_id as subject_key,
        reason_code,
        quarantine_reason,
        credit_note_id as reason_subject_key,
        customer_id,
        erp_customer_id is null as is_customer_missing_in_erp,
        subsidiary_code,
        erp_subsidiary_id,
        currency_code,
        total as amount,
        posting_date
    from memos
    union all
    select
        external_id,
        'customerPayment' as record_type,
        charge_id as subject_key,
        reason_code,
        quarantine_reason,
        charge_id as reason_subject_key,
        customer_id,
        erp_customer_id is null as is_customer_missing_in_erp,
        subsidiary_code,
        erp_subsidiary_id,
        currency_code,
        amount,
        posting_date
    from payments
    union all
    select
        external_id,
        'journalEntry' as record_type,
        subject_key,
        reason_code,
        quarantine_reason,
        subject_key as reason_subject_key,
        cast(null as varchar) as customer_id,
        false as is_customer_missing_in_erp,
        subsidiary_code,
        erp_subsidiary_id,
        currency_code,
        total_debit as amount,
        journal_date as posting_date
    from journals
)

select
    cast(external_id as varchar) as external_id,
    cast(record_type as varchar) as record_type,
    cast(subject_key as varchar) as subject_key,
    cast(reason_code as varchar) as reason_code,
    cast(quarantine_reason as varchar) as reason,
    cast(reason_subject_key as varchar) as reason_subject_key,
    cast(customer_id as varchar) as customer_id,
    cast(is_customer_missing_in_erp as boolean) as is_customer_missing_in_erp,
    cast(subsidiary_code as varchar) as subsidiary_code,
    cast(erp_subsidiary_id as varchar) as erp_subsidiary_id,
    cast(currency_code as varchar) as currency_code,
    cast(amount as decimal(38, 4)) as amount,
    cast(posting_date as date) as posting_date
from held
