{{ config(schema='intermediate') }}
{{ keyed_incremental_config('invoice_line_id', '{{ delete_unscheduled_lines() }}') }}
-- One row per (ratable invoice line, month of its service period): the line's amount allocated by day. Service days
-- run from service_start_date to service_end_date inclusive; a line ending before it starts is point-in-time on its
-- start date. Allocation is in integer minor units with the largest-remainder method, so the months of a line sum
-- exactly to its amount. Only lines of invoices that are ready (which includes those already in the ERP).
-- Incremental: a line's months depend on its own row only (with its invoice's), so a build allocates only the lines
-- whose row changed since the last, found by `input_fingerprint` (macros/revenue_schedule.sql); the rest are kept.
with

allocated_lines as (
    {{ revenue_schedule_lines() }}
),

lines as (
    -- the lines whose months this build allocates: all of them, or those whose row changed
    {{ unbuilt_inputs('allocated_lines', 'invoice_line_id') }}
),

months as (
    select
        lines.*,
        cast(month_start.month_start as date) as revenue_month,
        cast(lines.recognition_end - lines.recognition_start + 1 as bigint) as service_days,
        cast(
            least(lines.recognition_end, last_day(cast(month_start.month_start as date)))
            - greatest(lines.recognition_start, cast(month_start.month_start as date))
            + 1 as bigint
        ) as days_in_month,
        {{ major_to_minor('abs(lines.amount)', 'lines.currency_exponent') }} as abs_amount_minor,
        sign(lines.amount) as amount_sign
    from lines,
        unnest(generate_series(
            cast(date_trunc('month', lines.recognition_start) as timestamp),
            cast(date_trunc('month', lines.recognition_end) as timestamp),
            interval 1 month
        )) as month_start (month_start)
),

shares as (
    select
        *,
        abs_amount_minor * days_in_month // service_days as floor_minor,
        abs_amount_minor * days_in_month % service_days as remainder_minor
    from months
),

ranked as (
    select
        *,
        abs_amount_minor - sum(floor_minor) over (partition by invoice_line_id) as leftover_minor,
        row_number() over (
            partition by invoice_line_id order by remainder_minor desc, revenue_month asc
        ) as remainder_rank
    from shares
)

select
    external_id,
    invoice_id,
    invoice_line_id,
    line_number,
    product_id,
    erp_subsidiary_id,
    subsidiary_code,
    currency_code,
    currency_exponent,
    revenue_account_id,
    deferred_revenue_account_id,
    department_id,
    recognition_start,
    recognition_end,
    service_days,
    revenue_month,
    days_in_month,
    amount as line_amount,
    amount_sign * {{ minor_to_major(
        'floor_minor + case when remainder_rank <= leftover_minor then 1 else 0 end', 'currency_exponent'
    ) }} as recognized_amount,
    input_fingerprint
from ranked
