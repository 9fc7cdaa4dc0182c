{#- Helpers for the publish layer: NetSuite references, JSON bodies, minor units, the house accounts. -#}

{#- A reference to an ERP record that exists: `{"id": "5"}`. -#}
{% macro erp_ref_id(internal_id) -%}
    json_object('id', {{ internal_id }})
{%- endmacro %}

{#- A reference to a record by its internal id when the ERP has it, else by the external id q2c creates it with. -#}
{% macro erp_ref(internal_id, external_id) -%}
    case
        when {{ internal_id }} is not null then json_object('id', {{ internal_id }})
        else json_object('externalId', {{ external_id }})
    end
{%- endmacro %}

{#- A JSON object without its null-valued keys (NetSuite omits empty fields; RFC 7396 merge drops nulls). -#}
{% macro json_without_nulls(json_object_expr) -%}
    json_merge_patch('{}', {{ json_object_expr }})
{%- endmacro %}

{#- sha256 hex of a payload: the reverse ETL re-sends only when it changes. -#}
{% macro payload_hash(payload) -%}
    sha256({{ payload }})
{%- endmacro %}

{#- Exact major units → integer minor units by the ISO 4217 exponent (inverse of minor_to_major). -#}
{% macro major_to_minor(major_amount, exponent) -%}
    cast(
        {{ major_amount }}
        * (case {{ exponent }} when 0 then 1 when 1 then 10 when 2 then 100 when 3 then 1000 when 4 then 10000 end)
        as hugeint
    )
{%- endmacro %}

{#- The house accounts q2c's summarized journals post to, by ERP account number (the chart of accounts' A/R,
    tax payable and undeposited funds; a chart without them quarantines the journals as REFERENCE_MISSING). -#}
{% macro house_account_number(role) -%}
    {%- set numbers = {
        'accounts_receivable': '1100',
        'undeposited_funds': '1200',
        'tax_payable': '2200',
    } -%}
    '{{ numbers[role] }}'
{%- endmacro %}

{#- The period a publish posting falls in, with its next open period (for the closed-period policy). -#}
{% macro join_publish_period(alias, posting_date, subsidiary_id) -%}
    {{ join_posting_period(alias, posting_date, subsidiary_id, 'int_publish__posting_periods') }}
{%- endmacro %}

{#- The gate's period checks for a billing posting the ERP lacks, as WHEN branches of the reason-code CASE and of
    the reason CASE; a posting the ERP already has keeps its own date. Columns: is_in_erp, own_period_id,
    own_period_name, is_in_closed_period, posting_date, erp_subsidiary_id. -#}
{% macro period_gate_reason_codes() -%}
    when not is_in_erp and own_period_id is null then 'REFERENCE_MISSING'
    when not is_in_erp and is_in_closed_period then 'POSTING_PERIOD_CLOSED'
{%- endmacro %}

{% macro period_gate_reasons() -%}
    when not is_in_erp and own_period_id is null
        then 'no ERP accounting period for posting date ' || cast(posting_date as varchar)
    when not is_in_erp and is_in_closed_period
        then 'period closed: ' || own_period_name || ' is closed for subsidiary ' || erp_subsidiary_id
{%- endmacro %}

{#- The date and period a gated posting is sent with: its own when the ERP has it, else as the policy moved it. -#}
{% macro gated_tran_date() -%}
    case when is_in_erp then posting_date else coalesce(moved_posting_date, posting_date) end
{%- endmacro %}

{% macro gated_posting_period_id() -%}
    case when is_in_erp then own_period_id else coalesce(moved_period_id, own_period_id) end
{%- endmacro %}

{#- Whether a posting in a closed period moves to the next open one (policy var), as a SQL boolean. -#}
{% macro moves_to_next_open_period() -%}
    {{ 'true' if var('q2c_closed_period_policy') == 'next_open' else 'false' }}
{%- endmacro %}

{#- The date a posting is sent with: its own, or under next_open the first day of the next open period. -#}
{% macro effective_posting_date(alias, posting_date) -%}
    case
        when {{ alias }}.is_closed and {{ moves_to_next_open_period() }} then {{ alias }}.next_open_start_date
        else {{ posting_date }}
    end
{%- endmacro %}

{% macro effective_posting_period(alias) -%}
    case
        when {{ alias }}.is_closed and {{ moves_to_next_open_period() }} then {{ alias }}.next_open_period_id
        else {{ alias }}.period_id
    end
{%- endmacro %}

{#- Whether a posting ends up in a closed period: closed and not moved (or nowhere open to move to). -#}
{% macro stays_in_closed_period(alias) -%}
    (
        coalesce({{ alias }}.is_closed, false)
        and (not {{ moves_to_next_open_period() }} or {{ alias }}.next_open_period_id is null)
    )
{%- endmacro %}

{#- The sublist of an invoice or credit memo as NetSuite's JSON list, built from a lines CTE grouped by
    external_id: item, quantity, rate, amount, department, tax, and the billing line it comes from. -#}
{% macro erp_sales_lines_json(billing_line_id, description='line_description') -%}
    to_json(list(
        {{ json_without_nulls("json_object(
            'item', case when erp_item_id is not null then " ~ erp_ref_id('erp_item_id') ~ " end,
            'description', " ~ description ~ ",
            'quantity', quantity,
            'rate', rate,
            'amount', amount,
            'department', case when department_id is not null then " ~ erp_ref_id('department_id') ~ " end,
            'taxRate1', case when tax_amount != 0 then tax_rate_percent end,
            'tax1Amt', tax_amount,
            'custcol_q2c_billing_line_id', " ~ billing_line_id ~ "
        )") }}
        order by line_number
    ))
{%- endmacro %}
