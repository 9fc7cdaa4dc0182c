-- Which ERP legal entity each billing customer belongs to: the first subsidiary_mappings rule (by priority)
-- that matches the customer's metadata, its billing entity's country, or its currency.
with

customers as (
    select * from {{ ref('stg_billing__customers') }}
),

entity_country as (
    -- the billing entity a customer's invoices are issued from (Stripe's account_country)
    select
        customer_id,
        max(billing_entity_country) as billing_entity_country
    from {{ ref('stg_billing__invoices') }}
    group by customer_id
),

rules as (
    select * from {{ ref('subsidiary_mappings') }}
),

subsidiaries as (
    select * from {{ ref('stg_erp__subsidiaries') }}
    where not is_deleted
),

candidates as (
    select
        customers.customer_id,
        rules.priority,
        rules.match_on,
        rules.erp_subsidiary_country
    from customers
    left join entity_country on customers.customer_id = entity_country.customer_id
    inner join rules
        on
            (rules.match_on = 'customer_metadata_subsidiary' and customers.subsidiary_code = rules.match_value)
            or (rules.match_on = 'billing_entity_country' and entity_country.billing_entity_country = rules.match_value)
            or (rules.match_on = 'currency' and customers.currency_code = rules.match_value)
),

chosen as (
    select *
    from candidates
    qualify row_number() over (partition by customer_id order by priority, match_on) = 1
)

select
    customers.customer_id,
    customers.subsidiary_code,
    chosen.erp_subsidiary_country,
    chosen.match_on as subsidiary_matched_on,
    subsidiaries.subsidiary_id as erp_subsidiary_id,
    subsidiaries.subsidiary_name as erp_subsidiary_name
from customers
left join chosen on customers.customer_id = chosen.customer_id
left join subsidiaries on chosen.erp_subsidiary_country = subsidiaries.country_code
