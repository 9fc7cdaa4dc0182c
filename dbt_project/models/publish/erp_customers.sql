-- One row per billing customer without an ERP customer: the ERP customer q2c creates (`bill-cus_…`), so that
-- its postings can reference it by externalId in the same push. Quarantined when its subsidiary or currency
-- has no ERP record.
with

customers as (
    select * from {{ ref('customers') }}
    where erp_link_status = 'missing'
),

currencies as (
    select * from {{ ref('stg_erp__currencies') }}
    where not is_deleted
),

gated as (
    select
        'bill-' || customers.customer_id as external_id,
        customers.customer_id,
        customers.customer_name,
        customers.email,
        customers.subsidiary_code,
        customers.erp_subsidiary_id,
        customers.currency_code,
        currencies.currency_id,
        customers.crm_company_id,
        case
            when customers.erp_subsidiary_id is null then 'REFERENCE_MISSING'
            when currencies.currency_id is null then 'REFERENCE_MISSING'
        end as reason_code,
        case
            when customers.erp_subsidiary_id is null
                then 'no ERP subsidiary for subsidiary code ' || coalesce(customers.subsidiary_code, '(none)')
            when currencies.currency_id is null
                then 'currency ' || coalesce(customers.currency_code, '(none)') || ' is not an ERP currency'
        end as quarantine_reason
    from customers
    left join currencies on customers.currency_code = currencies.currency_code
),

bodies as (
    select
        *,
        cast({{ json_without_nulls("json_object(
            'externalId', external_id,
            'companyName', coalesce(customer_name, customer_id),
            'isPerson', false,
            'email', email,
            'subsidiary', " ~ erp_ref_id('erp_subsidiary_id') ~ ",
            'currency', " ~ erp_ref_id('currency_id') ~ ",
            'custentity_q2c_crm_company_id', crm_company_id
        )") }} as varchar) as payload
    from gated
)

select
    cast(external_id as varchar) as external_id,
    cast('customer' as varchar) as record_type,
    cast(customer_id as varchar) as subject_key,
    cast(customer_id as varchar) as customer_id,
    cast(customer_name as varchar) as customer_name,
    cast(subsidiary_code as varchar) as subsidiary_code,
    cast(erp_subsidiary_id as varchar) as erp_subsidiary_id,
    cast(currency_code as varchar) as currency_code,
    cast(crm_company_id as varchar) as crm_company_id,
    cast(case when reason_code is null then 'ready' else 'quarantined' end as varchar) as validation_status,
    cast(reason_code as varchar) as reason_code,
    cast(quarantine_reason as varchar) as quarantine_reason,
    cast([] as varchar[]) as depends_on,
    payload,
    cast({{ payload_hash('payload') }} as varchar) as payload_hash
from bodies
