{#- The invoice lines the revenue schedule allocates: ratable lines of ready invoices, each with its invoice's
    subsidiary and date, and `input_fingerprint`, the hash of that row: all its months depend on. The model
    allocates the lines whose fingerprint it does not hold yet; its post-hook removes the months of lines no longer
    listed here (their invoice stopped being ready, the line lost its deferral), reading their ids only (DuckDB
    leaves out the hash then). -#}
{% macro revenue_schedule_lines() -%}
    with

    invoices as (
        select * from {{ ref('int_publish__invoice_postings') }}
        where validation_status = 'ready'
    ),

    lines as (
        select
            line_postings.*,
            invoices.subsidiary_code,
            invoices.tran_date as invoice_date,
            line_postings.service_start_date as recognition_start,
            greatest(line_postings.service_end_date, line_postings.service_start_date) as recognition_end
        from {{ ref('int_publish__invoice_line_postings') }} as line_postings
        inner join invoices on line_postings.invoice_id = invoices.invoice_id
        where line_postings.deferred_revenue_account_id is not null and line_postings.service_start_date is not null
    )

    -- `lines` alone is the row, as a struct
    select lines.*, hash(lines) as input_fingerprint from lines  -- noqa: RF02
{%- endmacro %}

{#- After the build: the months of lines the schedule no longer allocates go. A line whose row changed had its
    months replaced already (delete+insert on invoice_line_id). -#}
{% macro delete_unscheduled_lines() -%}
    delete from {{ this }} as built
    where not exists (
        select 1 from (
            {{ revenue_schedule_lines() }}
        ) as lines  -- the macro's select ends with a comment: the parenthesis closes on a line of its own
        where lines.invoice_line_id = built.invoice_line_id
    )
{%- endmacro %}
