-- One row per billing product with its ERP mapping: item (by the seed's itemid for its sku, else the ERP item
-- whose externalId is the product id), revenue and deferred-revenue accounts, department, revenue treatment.
with

products as (
    select * from {{ ref('stg_billing__products') }}
    where not is_deleted
),

mappings as (
    select * from {{ ref('product_mappings') }}
),

items as (
    select * from {{ ref('stg_erp__items') }}
    where not is_deleted and not is_inactive
),

accounts as (
    select * from {{ ref('stg_erp__accounts') }}
    where not is_deleted
),

departments as (
    select * from {{ ref('stg_erp__departments') }}
    where not is_deleted
),

resolved as (
    select
        products.product_id,
        products.product_name,
        products.sku,
        products.is_active,
        mappings.sku is not null as has_mapping_row,
        coalesce(by_name.item_id, by_external_id.item_id) as erp_item_id,
        coalesce(by_name.item_name, by_external_id.item_name) as erp_item_name,
        case
            when by_name.item_id is not null then 'seed product_mappings: itemid ' || by_name.item_name
            when by_external_id.item_id is not null then 'ERP item externalId = product id'
        end as item_evidence,
        coalesce(revenue.account_id, coalesce(by_name.income_account_id, by_external_id.income_account_id))
            as revenue_account_id,
        coalesce(
            deferred_account.account_id,
            case
                when coalesce(mappings.revenue_treatment, 'ratable') = 'ratable'
                    then coalesce(by_name.deferred_revenue_account_id, by_external_id.deferred_revenue_account_id)
            end
        ) as deferred_revenue_account_id,
        departments.department_id,
        mappings.department_name,
        coalesce(
            mappings.revenue_treatment,
            case
                when
                    coalesce(by_name.deferred_revenue_account_id, by_external_id.deferred_revenue_account_id)
                    is not null then 'ratable'
                else 'point_in_time'
            end
        ) as revenue_treatment
    from products
    left join mappings on products.sku = mappings.sku
    left join items as by_name on mappings.erp_item_name = by_name.item_name
    left join items as by_external_id on products.product_id = by_external_id.external_id
    left join accounts as revenue on mappings.revenue_account_number = revenue.account_number
    left join accounts as deferred_account on mappings.deferred_revenue_account_number = deferred_account.account_number
    left join departments on mappings.department_name = departments.department_name
)

select
    *,
    erp_item_id is not null
    and revenue_account_id is not null
    and (revenue_treatment = 'point_in_time' or deferred_revenue_account_id is not null) as is_mapped,
    case
        when erp_item_id is null then 'no ERP item for product ' || product_id || coalesce(' (sku ' || sku || ')', '')
        when revenue_account_id is null then 'no revenue account for item ' || erp_item_name
        when revenue_treatment = 'ratable' and deferred_revenue_account_id is null
            then 'no deferred revenue account for item ' || erp_item_name
    end as unmapped_reason
from resolved
