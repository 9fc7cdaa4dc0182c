{{ config(schema='intermediate') }}
-- q2c_posting_mode = summary: the daily summarized journal lines before netting, in place of invoice-level
-- postings. Per subsidiary, currency and day, from the ready postings the ERP lacks: invoices (Dr A/R, Cr revenue or
-- deferred revenue per account and department, Cr tax payable), credit notes (the reverse) and payments
-- (Dr undeposited funds, Cr A/R). Amounts are signed: positive is a debit. Empty in invoice mode.
with

accounts as (
    select * from {{ ref('stg_erp__accounts') }}
    where not is_deleted
),

house as (
    select
        max(case when account_number = {{ house_account_number('accounts_receivable') }} then account_id end)
            as receivable_account_id,
        max(case when account_number = {{ house_account_number('tax_payable') }} then account_id end)
            as tax_payable_account_id,
        max(case when account_number = {{ house_account_number('undeposited_funds') }} then account_id end)
            as undeposited_funds_account_id
    from accounts
),

invoices as (
    select * from {{ ref('int_publish__invoice_postings') }}
    where validation_status = 'ready' and not is_in_erp
),

invoice_lines as (
    select * from {{ ref('int_publish__invoice_line_postings') }}
),

memos as (
    select * from {{ ref('int_publish__credit_memo_postings') }}
    where validation_status = 'ready' and not is_in_erp
),

memo_lines as (
    select * from {{ ref('int_publish__credit_memo_line_postings') }}
),

payments as (
    select * from {{ ref('int_publish__payment_postings') }}
    where validation_status = 'ready' and not is_in_erp
),

entries as (
    select
        invoices.erp_subsidiary_id,
        invoices.subsidiary_code,
        invoices.currency_code,
        invoices.tran_date,
        house.receivable_account_id as account_id,
        cast(null as varchar) as department_id,
        invoices.total as signed_amount,
        'Invoices' as memo
    from invoices cross join house
    union all
    select
        invoices.erp_subsidiary_id,
        invoices.subsidiary_code,
        invoices.currency_code,
        invoices.tran_date,
        coalesce(invoice_lines.deferred_revenue_account_id, invoice_lines.revenue_account_id) as account_id,
        invoice_lines.department_id,
        -invoice_lines.amount as signed_amount,
        'Invoiced revenue' as memo
    from invoices inner join invoice_lines on invoices.external_id = invoice_lines.external_id
    union all
    select
        invoices.erp_subsidiary_id,
        invoices.subsidiary_code,
        invoices.currency_code,
        invoices.tran_date,
        house.tax_payable_account_id as account_id,
        null as department_id,
        -invoices.tax_total as signed_amount,
        'Tax invoiced' as memo
    from invoices cross join house
    union all
    select
        memos.erp_subsidiary_id,
        memos.subsidiary_code,
        memos.currency_code,
        memos.tran_date,
        house.receivable_account_id as account_id,
        null as department_id,
        -memos.total as signed_amount,
        'Credit notes' as memo
    from memos cross join house
    union all
    select
        memos.erp_subsidiary_id,
        memos.subsidiary_code,
        memos.currency_code,
        memos.tran_date,
        coalesce(memo_lines.deferred_revenue_account_id, memo_lines.revenue_account_id) as account_id,
        memo_lines.department_id,
        memo_lines.amount as signed_amount,
        'Credited revenue' as memo
    from memos inner join memo_lines on memos.external_id = memo_lines.external_id
    union all
    select
        memos.erp_subsidiary_id,
        memos.subsidiary_code,
        memos.currency_code,
        memos.tran_date,
        house.tax_payable_account_id as account_id,
        null as department_id,
        memos.tax_total as signed_amount,
        'Tax credited' as memo
    from memos cross join house
    union all
    select
        payments.erp_subsidiary_id,
        payments.subsidiary_code,
        payments.currency_code,
        payments.tran_date,
        house.undeposited_funds_account_id as account_id,
        null as department_id,
        payments.amount as signed_amount,
        'Payments received' as memo
    from payments cross join house
    union all
    select
        payments.erp_subsidiary_id,
        payments.subsidiary_code,
        payments.currency_code,
        payments.tran_date,
        house.receivable_account_id as account_id,
        null as department_id,
        -payments.amount as signed_amount,
        'Payments received' as memo
    from payments cross join house
)

select
    'q2c-daily-' || lower(subsidiary_code) || '-' || lower(currency_code) || '-'
    || strftime(tran_date, '%Y-%m-%d') as external_id,
    'daily_summary' as journal_kind,
    erp_subsidiary_id,
    subsidiary_code,
    currency_code,
    tran_date as journal_date,
    account_id,
    department_id,
    signed_amount,
    memo
from entries
where '{{ var("q2c_posting_mode") }}' = 'summary'
