-- Every exception the rules raise at `now` (var q2c_now): one row per (exception_type, subject_key), with the
-- subsidiary code, the amount at risk in its own currency and a business-readable sentence. Detection only: history
-- (first seen, resolved) is kept by reconciliation.exceptions. Precedence follows the scenario README.
{%- set money = "cast(cast({} as decimal(38, 2)) as varchar)" %}
with

invoice_matches as (
    select * from {{ ref('invoice_matches') }}
),

payment_matches as (
    select * from {{ ref('payment_matches') }}
),

credit_note_matches as (
    select * from {{ ref('int_credit_notes_matched_to_erp') }}
),

customer_matches as (
    select * from {{ ref('customer_matches') }}
),

contract_matches as (
    select * from {{ ref('contract_matches') }}
),

products as (
    select * from {{ ref('products') }}
),

invoices as (
    select * from {{ ref('invoices') }}
),

erp_subsidiaries as (
    select * from {{ ref('stg_erp__subsidiaries') }}
),

rejected_postings as (
    -- POSTING_REJECTED comes from the reverse-ETL ledger: the ERP refused the push (latest state 'rejected')
    select * from {{ ref('stg_ops__postings') }}
    where posting_state = 'rejected' and subject_key is not null
),

invoice_exceptions as (
    select
        case match_status
            when 'missing_in_erp' then 'INVOICE_MISSING_IN_ERP'
            when 'period_closed' then 'POSTING_PERIOD_CLOSED'
        end as exception_type,
        invoice_id as subject_key,
        subsidiary_code,
        billing_currency as currency_code,
        billing_total as amount_at_risk,
        'Billing invoice ' || invoice_id || ' (' || invoice_status || ', ' || billing_currency || ' '
        || {{ money.format('billing_total') }} || ', finalized ' || strftime(finalized_at, '%Y-%m-%d %H:%M UTC')
        || ') has no ERP invoice'
        || case
            when match_status = 'period_closed'
                then
                    ': its posting date ' || posting_date
                    || ' falls in a period closed for ' || subsidiary_code
            else ''
        end || '.' as detail
    from invoice_matches
    where match_status in ('missing_in_erp', 'period_closed')

    union all

    select
        'INVOICE_ORPHAN_IN_ERP' as exception_type,
        invoice_matches.erp_transaction_id as subject_key,
        -- the ERP names the UK entity by its country, GB
        case erp_subsidiaries.country_code when 'GB' then 'UK' else erp_subsidiaries.country_code end
            as subsidiary_code,
        invoice_matches.erp_currency as currency_code,
        invoice_matches.erp_total as amount_at_risk,
        'ERP invoice ' || invoice_matches.erp_transaction_id || ' (' || invoice_matches.erp_currency || ' '
        || {{ money.format('invoice_matches.erp_total') }} || ') claims billing invoice '
        || invoice_matches.billing_key || ', which billing does not have.' as detail
    from invoice_matches
    left join erp_subsidiaries on invoice_matches.erp_subsidiary_id = erp_subsidiaries.subsidiary_id
    where invoice_matches.match_status = 'orphan_in_erp'

    union all

    select
        'INVOICE_DUPLICATE_IN_ERP' as exception_type,
        primary_match.invoice_id as subject_key,
        primary_match.subsidiary_code,
        primary_match.billing_currency as currency_code,
        -- the extra records double-count: their totals are at risk
        (
            select coalesce(sum(extra.erp_total), 0) from invoice_matches as extra
            where extra.invoice_id = primary_match.invoice_id and not extra.is_primary_match
        ) as amount_at_risk,
        'Billing invoice ' || primary_match.invoice_id || ' has ' || primary_match.erp_records_for_invoice
        || ' ERP invoices (primary ' || primary_match.erp_transaction_id || ').' as detail
    from invoice_matches as primary_match
    where primary_match.is_duplicate_in_erp

    union all

    select
        'INVOICE_CURRENCY_MISMATCH' as exception_type,
        invoice_id as subject_key,
        subsidiary_code,
        billing_currency as currency_code,
        billing_total as amount_at_risk,
        'Billing invoice ' || invoice_id || ' is in ' || billing_currency || ', ERP invoice ' || erp_transaction_id
        || ' in ' || coalesce(erp_currency, 'no currency') || '.' as detail
    from invoice_matches
    where is_currency_mismatch

    union all

    select
        'INVOICE_AMOUNT_MISMATCH' as exception_type,
        invoice_id as subject_key,
        subsidiary_code,
        billing_currency as currency_code,
        abs(total_difference) as amount_at_risk,
        'Billing invoice ' || invoice_id || ' totals ' || billing_currency || ' ' || {{ money.format('billing_total') }}
        || ', ERP invoice ' || erp_transaction_id || ' ' || {{ money.format('erp_total') }} || '.' as detail
    from invoice_matches
    where is_amount_mismatch

    union all

    select
        'INVOICE_TAX_MISMATCH' as exception_type,
        invoice_id as subject_key,
        subsidiary_code,
        billing_currency as currency_code,
        abs(tax_difference) as amount_at_risk,
        'Billing invoice ' || invoice_id || ' has tax ' || billing_currency || ' '
        || {{ money.format('billing_tax_total') }} || ', ERP invoice ' || erp_transaction_id || ' '
        || {{ money.format('erp_tax_total') }} || '.' as detail
    from invoice_matches
    where is_tax_mismatch

    union all

    select
        'INVOICE_CUSTOMER_MISMATCH' as exception_type,
        invoice_id as subject_key,
        subsidiary_code,
        billing_currency as currency_code,
        billing_total as amount_at_risk,
        'Billing invoice ' || invoice_id || ' belongs to ' || customer_id || ' (ERP customer '
        || coalesce(expected_erp_customer_id, 'none') || '), but ERP invoice ' || erp_transaction_id
        || ' is posted to ERP customer ' || coalesce(erp_customer_id, 'none') || '.' as detail
    from invoice_matches
    where is_customer_mismatch

    union all

    select
        'INVOICE_SUBSIDIARY_MISMATCH' as exception_type,
        invoice_id as subject_key,
        subsidiary_code,
        billing_currency as currency_code,
        billing_total as amount_at_risk,
        'Billing invoice ' || invoice_id || ' belongs to subsidiary ' || subsidiary_code || ' (ERP id '
        || coalesce(expected_erp_subsidiary_id, 'none') || '), but ERP invoice ' || erp_transaction_id
        || ' is posted to subsidiary ' || coalesce(erp_subsidiary_id, 'none') || '.' as detail
    from invoice_matches
    where is_subsidiary_mismatch

    union all

    select
        'INVOICE_STATUS_MISMATCH' as exception_type,
        invoice_id as subject_key,
        subsidiary_code,
        billing_currency as currency_code,
        case
            when invoice_status = 'void' then erp_total
            else coalesce(erp_amount_unpaid, billing_amount_remaining)
        end as amount_at_risk,
        'Billing invoice ' || invoice_id || ' is ' || invoice_status || ', ERP invoice ' || erp_transaction_id
        || ' is ' || coalesce(erp_status, 'unknown') || ' (expected ' || expected_erp_status || ').' as detail
    from invoice_matches
    where is_status_mismatch
),

payment_exceptions as (
    select
        case match_status
            when 'missing_in_erp' then 'PAYMENT_MISSING_IN_ERP'
            when 'period_closed' then 'POSTING_PERIOD_CLOSED'
        end as exception_type,
        charge_id as subject_key,
        subsidiary_code,
        billing_currency as currency_code,
        billing_amount as amount_at_risk,
        'Payment ' || charge_id || ' (' || billing_currency || ' ' || {{ money.format('billing_amount') }}
        || ', ' || strftime(charged_at, '%Y-%m-%d %H:%M UTC') || ') for invoice ' || invoice_id
        || ' has no ERP customer payment'
        || case
            when match_status = 'period_closed'
                then
                    ': its posting date ' || posting_date
                    || ' falls in a closed period'
            else ''
        end || '.' as detail
    from payment_matches
    where match_status in ('missing_in_erp', 'period_closed')

    union all

    select
        'PAYMENT_DUPLICATE_IN_ERP' as exception_type,
        primary_match.charge_id as subject_key,
        primary_match.subsidiary_code,
        primary_match.billing_currency as currency_code,
        (
            select coalesce(sum(extra.erp_amount), 0) from payment_matches as extra
            where extra.charge_id = primary_match.charge_id and not extra.is_primary_match
        ) as amount_at_risk,
        'Payment ' || primary_match.charge_id || ' has ' || primary_match.erp_records_for_charge
        || ' ERP customer payments (primary ' || primary_match.erp_transaction_id || ').' as detail
    from payment_matches as primary_match
    where primary_match.is_duplicate_in_erp

    union all

    select
        'PAYMENT_AMOUNT_MISMATCH' as exception_type,
        charge_id as subject_key,
        subsidiary_code,
        billing_currency as currency_code,
        abs(amount_difference) as amount_at_risk,
        'Payment ' || charge_id || ' is ' || billing_currency || ' ' || {{ money.format('billing_amount') }}
        || ' in billing, ' || {{ money.format('erp_amount') }} || ' in ERP payment ' || erp_transaction_id
        || '.' as detail
    from payment_matches
    where is_amount_mismatch
),

credit_note_exceptions as (
    select
        case match_status
            when 'missing_in_erp' then 'CREDIT_NOTE_MISSING_IN_ERP'
            when 'period_closed' then 'POSTING_PERIOD_CLOSED'
        end as exception_type,
        credit_note_id as subject_key,
        subsidiary_code,
        currency_code,
        total as amount_at_risk,
        'Credit note ' || credit_note_id || ' (' || currency_code || ' ' || {{ money.format('total') }}
        || ', effective ' || strftime(effective_at, '%Y-%m-%d') || ') on invoice ' || invoice_id
        || ' has no ERP credit memo'
        || case
            when match_status = 'period_closed'
                then
                    ': its posting date ' || posting_date
                    || ' falls in a closed period'
            else ''
        end || '.' as detail
    from credit_note_matches
    where match_status in ('missing_in_erp', 'period_closed')
),

customer_exceptions as (
    select
        case
            when customer_matches.match_status = 'crm_merged_stale_reference' then 'CUSTOMER_MERGED_STALE_REF'
            else 'CUSTOMER_UNMATCHED'
        end as exception_type,
        customer_matches.customer_id as subject_key,
        customer_matches.subsidiary_code,
        customer_matches.billing_currency as currency_code,
        -- without an ERP customer, the customer's billed invoices are held back: they are what is at risk
        case
            when customer_matches.match_status = 'crm_merged_stale_reference' then 0
            when customer_matches.erp_customer_id is null
                then (
                    select coalesce(sum(held.total), 0) from invoices as held
                    where
                        held.customer_id = customer_matches.customer_id and held.invoice_status not in ('draft', 'void')
                        and held.currency_code = customer_matches.billing_currency
                )
            else 0
        end as amount_at_risk,
        'Billing customer ' || customer_matches.customer_id || ' ('
        || coalesce(customer_matches.billing_customer_name, '')
        || '): ' || customer_matches.crm_link_evidence || '; ' || customer_matches.erp_link_evidence || '.' as detail
    from customer_matches
    where customer_matches.match_status in ('crm_merged_stale_reference', 'crm_unmatched', 'erp_unmatched')
),

contract_exceptions as (
    select
        case match_status
            when 'deal_without_subscription' then 'DEAL_WITHOUT_SUBSCRIPTION'
            when 'subscription_without_deal' then 'SUBSCRIPTION_WITHOUT_DEAL'
            else 'CONTRACT_VALUE_MISMATCH'
        end as exception_type,
        case when match_status = 'subscription_without_deal' then subscription_id else deal_id end as subject_key,
        subsidiary_code,
        case when match_status = 'deal_without_subscription' then deal_currency else subscription_currency end
            as currency_code,
        case match_status
            when 'deal_without_subscription' then coalesce(deal_amount, 0)
            when 'subscription_without_deal' then contract_value
            else case when deal_currency = subscription_currency then abs(value_difference) else contract_value end
        end as amount_at_risk,
        case match_status
            when 'deal_without_subscription'
                then
                    'Closed-won deal ' || deal_id || ' (' || coalesce(deal_currency, '')
                    || ' ' || coalesce({{ money.format('deal_amount') }}, '0.00') || ', closed '
                    || strftime(deal_closed_at, '%Y-%m-%d') || ') has no billing subscription.'
            when 'subscription_without_deal'
                then
                    'Subscription ' || subscription_id || ' (' || subscription_currency
                    || ' ' || {{ money.format('contract_value') }} || ' a year) names no closed-won deal ('
                    || coalesce('metadata.hubspot_deal_id ' || deal_id_on_subscription, 'no metadata.hubspot_deal_id')
                    || ').'
            else
                'Deal ' || deal_id || ' amount ' || coalesce(deal_currency, '') || ' '
                || coalesce({{ money.format('deal_amount') }}, '0.00') || ' vs subscription ' || subscription_id
                || ' contract value ' || subscription_currency || ' ' || {{ money.format('contract_value') }} || '.'
        end as detail
    from contract_matches
    where match_status in ('deal_without_subscription', 'subscription_without_deal', 'value_mismatch')
),

product_sales as (
    -- what an unmapped product sold, in the currency of its first sale
    select
        sold_lines.product_id,
        min(invoices.subsidiary_code) as subsidiary_code,
        arg_min(sold_lines.currency_code, invoices.finalized_at) as currency_code,
        count(distinct sold_lines.invoice_id) as invoices_held
    from {{ ref('invoice_lines') }} as sold_lines
    inner join invoices on sold_lines.invoice_id = invoices.invoice_id
    where invoices.invoice_status not in ('draft', 'void')
    group by sold_lines.product_id
),

product_exceptions as (
    select
        'PRODUCT_UNMAPPED' as exception_type,
        products.product_id as subject_key,
        product_sales.subsidiary_code,
        coalesce(product_sales.currency_code, 'USD') as currency_code,
        coalesce((
            select sum(sold_lines.amount) from {{ ref('invoice_lines') }} as sold_lines
            inner join invoices on sold_lines.invoice_id = invoices.invoice_id
            where
                sold_lines.product_id = products.product_id and sold_lines.currency_code = product_sales.currency_code
                and invoices.invoice_status not in ('draft', 'void')
        ), 0) as amount_at_risk,
        'Billing product ' || products.product_id || ' (' || coalesce(products.product_name, '') || '): '
        || products.unmapped_reason || '; ' || coalesce(product_sales.invoices_held, 0)
        || ' invoice(s) held back.' as detail
    from products
    left join product_sales on products.product_id = product_sales.product_id
    where products.is_active and not products.is_mapped
),

rejected_exceptions as (
    select
        'POSTING_REJECTED' as exception_type,
        rejected_postings.subject_key,
        coalesce(invoice_subject.subsidiary_code, payment_subject.subsidiary_code, note_subject.subsidiary_code)
            as subsidiary_code,
        coalesce(invoice_subject.billing_currency, payment_subject.billing_currency, note_subject.currency_code)
            as currency_code,
        coalesce(invoice_subject.billing_total, payment_subject.billing_amount, note_subject.total, 0)
            as amount_at_risk,
        'The ERP refused ' || coalesce(rejected_postings.record_type, 'posting') || ' '
        || rejected_postings.external_id || ' after ' || coalesce(rejected_postings.attempts, 0) || ' attempt(s): '
        || coalesce(rejected_postings.last_error_code, 'no error code') || ' — '
        || coalesce(rejected_postings.last_error_message, 'no message')
        || coalesce(' (field ' || rejected_postings.last_error_path || ')', '') || '.' as detail
    from rejected_postings
    left join invoice_matches as invoice_subject
        on rejected_postings.subject_key = invoice_subject.invoice_id and invoice_subject.is_primary_match
    left join payment_matches as payment_subject
        on rejected_postings.subject_key = payment_subject.charge_id and payment_subject.is_primary_match
    left join credit_note_matches as note_subject on rejected_postings.subject_key = note_subject.credit_note_id
    qualify row_number() over (
        partition by rejected_postings.subject_key order by rejected_postings.updated_at desc
    ) = 1
),

detected as (
    select * from invoice_exceptions
    union all
    select * from payment_exceptions
    union all
    select * from credit_note_exceptions
    union all
    select * from customer_exceptions
    union all
    select * from contract_exceptions
    union all
    select * from product_exceptions
)

-- a refused push replaces MISSING / POSTING_PERIOD_CLOSED for its subject
select detected.*
from detected
where
    not (
        detected.exception_type in (
            'INVOICE_MISSING_IN_ERP', 'PAYMENT_MISSING_IN_ERP', 'CREDIT_NOTE_MISSING_IN_ERP', 'POSTING_PERIOD_CLOSED'
        )
        and detected.subject_key in (select rejected_exceptions.subject_key from rejected_exceptions)
    )
union all
select * from rejected_exceptions
