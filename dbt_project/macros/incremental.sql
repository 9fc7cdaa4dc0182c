{#- Incremental staging: a staging model that parses large payloads keeps the rows it built, and each build parses
    only the raw rows it does not hold at their stored state. Raw billing rows carry `_q2c_state_version`, which
    the ingest raises whenever it stores a newer state of the object and never otherwise: a row whose key and
    version the model already holds is unchanged. The model keeps `_q2c_state_version` for the comparison, and
    `_q2c_load_seq` (the ingest run that wrote the raw row) to skip the raw rows earlier builds read.

    Such a model is configured with staging_incremental_config(): delete+insert on its key (a changed object's
    row is replaced), and `meta.rebuild_on_change`, by which `q2c build` drops its table when the SQL that built
    it changed (pipelines/build/incremental.py), so rows built by two versions of a model never mix. -#}
{% macro staging_incremental_config(key, raw_table, raw_key='id') -%}
    {{ keyed_incremental_config(key, "{{ delete_unsourced('" ~ raw_table ~ "', '" ~ raw_key ~ "', '" ~ key ~ "') }}") }}
{%- endmacro %}

{#- The config of every incremental model here: the rows of a key built again replace the held ones
    (delete+insert), `post_hook` deletes what is gone, and `meta.rebuild_on_change` has `q2c build` drop the table
    when the SQL that built it changed (pipelines/build/incremental.py). -#}
{% macro keyed_incremental_config(key, post_hook) -%}
    {{ config(
        materialized='incremental',
        unique_key=key,
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'rebuild_on_change': true},
        post_hook=post_hook,
    ) }}
{%- endmacro %}

{#- The raw rows the model has not built at their current version (all of them in a full build).

    The anti-join on (key, `_q2c_state_version`) decides which rows those are. Before it, the raw rows are cut to
    `_q2c_load_seq >= B` (or `> B`, below), B the largest load sequence the model's own table holds, written into
    the SQL as a literal: DuckDB pushes it into the raw scan as a table filter and skips, by their zone maps, the
    row groups whose sequences are all below B (earlier loads, the large `payload` column included). A scalar
    subquery would not be pushed down; a semi-join on the keys first does not prune the scan either.

    No unbuilt row is below B. Every billing run writes all its rows with one `_q2c_load_seq`, larger than any
    stored in raw when it was planned (pipelines/sources/billing/helpers.py: load_seq), and it is planned only after
    the package an interrupted run left behind was loaded (dlt completes pending packages before new ones): so rows
    reach raw in the order of their sequences, and any row still to come has a sequence at least that of every row
    already there. B is the sequence of a row some build read, so (part of) B's load was in raw when the last build
    read it. The rows raw held then were all built by that build or earlier ones (by induction: a build's cut drops
    none of the rows it must build); a row that reached raw afterwards has a sequence >= B. Rows at B itself can
    still come: a merged table's rows of one package appear in one transaction, but an appended table (a first
    backfill) lands file by file, and a build may have read some of the files of B's load. So the cut is `>= B`
    while some row of raw at B is unbuilt, and `> B` once none is: then B's load had landed whole, or its rest comes
    later and the next build, whose boundary is still B (no later load can land before it), finds it unbuilt and
    reads B again. Without this, the first build after a backfill would read the whole backfill again, as B is its
    sequence.

    Whether a row at B is unbuilt is counted, not joined: raw holds one row per key, and so does the model, each
    held row with the sequence of the raw row it was built from. So the held rows at B are those of raw's rows at B
    that are built, plus those whose key raw now holds at a later sequence (a newer state, still unbuilt): raw rows
    at B minus held rows at B plus held rows at B whose key has a raw row above B is the number of raw rows at B
    that are unbuilt. The three counts read sequences and keys only: B's row groups of raw, the model's sequence
    column, and the keys of the rows above B (the newest loads). An anti-join of raw's rows at B with the model read
    every key and version of B's rows (at L the backfill's 1.43M invoice lines, until a later load adds one: 1.6 s
    of a build that had nothing new). Anything else off the count (a raw row gone: see below) reads B again.

    Rows with a NULL sequence were loaded before the column existed and are never written again without one: when
    the model's table holds no sequence, nothing is cut, so the build that put the first sequence into it read all
    of them (a table built by SQL from before this cut is dropped first: the models are `rebuild_on_change`). The
    anti-join stays: the cut only narrows what it reads, it never decides what is built.

    What it assumes: one ingest at a time, and raw only ever written by it. Were raw.duckdb deleted and loaded again
    from scratch under a warehouse kept, with the clock now behind B, its rows would be below B: after replacing
    raw, build with `q2c build --full-refresh`. A raw table from before the column (no ingest with it yet) is read
    with a NULL sequence. -#}
{% macro unbuilt_rows(relation, raw_key, built_key) -%}
    {#- known at execution only (while dbt parses: the column assumed, nothing cut) -#}
    {%- set with_seq = true %}
    {%- set boundary = none %}
    {%- if execute %}
        {%- set with_seq = has_load_seq(relation) %}
        {%- if with_seq and is_incremental() %}
            {%- set largest = run_query('select max(_q2c_load_seq) from ' ~ this).columns[0].values()[0] %}
            {%- if largest is not none %}{% set boundary = '%d' % (largest | int) %}{% endif %}
        {%- endif %}
    {%- endif %}
    {%- set cut = '' %}
    {%- if boundary is not none %}
        {%- set unbuilt_at_boundary -%}
            select
                (select count(*) from {{ relation }} as raw_rows where raw_rows._q2c_load_seq = {{ boundary }})
                - (select count(*) from {{ this }} as built where built._q2c_load_seq = {{ boundary }})
                + (
                    select count(*) from {{ relation }} as raw_rows
                    where raw_rows._q2c_load_seq > {{ boundary }} and exists (
                        select 1 from {{ this }} as built
                        where built.{{ built_key }} = raw_rows.{{ raw_key }} and built._q2c_load_seq = {{ boundary }}
                    )
                )
        {%- endset %}
        {%- set at_boundary = run_query(unbuilt_at_boundary).columns[0].values()[0] != 0 %}
        {%- set cut = 'raw_rows._q2c_load_seq ' ~ ('>=' if at_boundary else '>') ~ ' ' ~ boundary ~ ' and ' %}
    {%- endif %}
    select raw_rows.*{% if not with_seq %}, cast(null as bigint) as _q2c_load_seq{% endif %}
    from {{ relation }} as raw_rows
    {%- if is_incremental() %}
        where {{ cut }}not exists (
            select 1 from {{ this }} as built
            where
                built.{{ built_key }} = raw_rows.{{ raw_key }}
                and built._q2c_state_version = raw_rows._q2c_state_version
        )
    {%- endif %}
{%- endmacro %}

{#- After the build: rows whose raw row is gone (raw was reloaded from scratch) go too. Billing never deletes a
    raw row (a deleted object stays, marked deleted), so this removes nothing in a normal run: it runs only when raw's
    sequences say it might. Raw loaded again from scratch starts at a new first load (the clock at its backfill), and
    a raw put back from a copy ends before the model's newest rows; while raw's smallest `_q2c_load_seq` is the
    model's and its largest is at least the model's, raw holds the loads the model was built from, and none of their
    rows is gone (no ingest deletes one). The delete is an anti-join of every held key with raw's (at L 1.7 s for the
    invoice lines), the check two minimum and two maximum reads of sequence columns. A raw without the column (no
    ingest since it came) is always checked. -#}
{% macro delete_unsourced(raw_table, raw_key, built_key) -%}
    {%- set raw_relation = source('billing', raw_table) %}
    {%- set raw_holds_the_model = false %}
    {%- if execute %}
        {%- if has_load_seq(raw_relation) %}
            {%- set bounds -%}
                select
                    (select min(_q2c_load_seq) from {{ raw_relation }}),
                    (select min(_q2c_load_seq) from {{ this }}),
                    (select max(_q2c_load_seq) from {{ raw_relation }}),
                    (select max(_q2c_load_seq) from {{ this }})
            {%- endset %}
            {%- set b = run_query(bounds).rows[0] %}
            {%- set raw_holds_the_model = b[1] is not none and b[0] == b[1] and b[2] >= b[3] %}
        {%- endif %}
    {%- endif %}
    {%- if raw_holds_the_model %}
        select 'raw holds the loads the model was built from: no raw row is gone' as unsourced
    {%- else %}
        delete from {{ this }} as built
        where not exists (
            select 1 from {{ raw_relation }} as raw_rows
            where raw_rows.{{ raw_key }} = built.{{ built_key }}
        )
    {%- endif %}
{%- endmacro %}

{#- Incremental publish bodies: a publish model builds a posting's JSON body (json_object, the merge patch that
    drops nulls, its sha256) only for the postings whose input changed since it last built. The input is the
    posting's row in its int_publish model (with its lines' rows, for documents with lines); its fingerprint, a
    hash of those rows, is kept beside the body as `input_fingerprint`. Every posting is fingerprinted each build
    (a hash, no JSON), and a posting whose input is gone is deleted after the build. -#}
{% macro publish_incremental_config(input_model) -%}
    {{ keyed_incremental_config('external_id', "{{ delete_unposted('" ~ input_model ~ "') }}") }}
{%- endmacro %}

{#- The rows of `relation` (a CTE or a model with `key` and `input_fingerprint`) the model does not hold with that
    fingerprint under that key: all of them in a full build. -#}
{% macro unbuilt_inputs(relation, key='external_id') -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
        where not exists (
            select 1 from {{ this }} as built
            where
                built.{{ key }} = {{ relation }}.{{ key }}
                and built.input_fingerprint = {{ relation }}.input_fingerprint
        )
    {%- endif %}
{%- endmacro %}

{#- After the build: postings whose input row is gone go too, and all of them outside invoice posting mode (the
    daily journals carry the documents then). -#}
{% macro delete_unposted(input_model) -%}
    delete from {{ this }} as built
    where
        '{{ var("q2c_posting_mode") }}' != 'invoice'
        or not exists (
            select 1 from {{ ref(input_model) }} as inputs
            where inputs.external_id = built.external_id
        )
{%- endmacro %}

{#- The two CTEs that fingerprint a document's postings (an invoice or a credit memo, with lines): its lines'
    rows as one value (`line_fingerprints`), then `postings`: the rows of `documents_model`, each with the hash of
    its own row and of that value as `input_fingerprint`. `lines` names the CTE holding the lines' rows. -#}
{% macro fingerprinted_documents(documents_model, lines='lines') -%}
line_fingerprints as (
    -- line ids are unique: no two rows cancel out
    select
        external_id,
        bit_xor(hash({{ lines }})) as lines_fingerprint
    from {{ lines }}
    group by external_id
),

postings as (
    select
        postings.*,
        -- `postings` alone is the row, as a struct
        hash(postings, line_fingerprints.lines_fingerprint) as input_fingerprint  -- noqa: RF02
    from {{ ref(documents_model) }} as postings
    left join line_fingerprints on postings.external_id = line_fingerprints.external_id
)
{%- endmacro %}

{#- Incremental publish lines: a line model (erp_invoice_lines, erp_credit_memo_lines) copies the lines of the
    documents whose body its document model built again, found by the document's `input_fingerprint` (which hashes
    its lines' rows), kept beside each line. Lines of a document whose fingerprint is gone (the document changed
    to no lines, or is no longer posted) are deleted after the build. -#}
{% macro publish_lines_config(documents_model) -%}
    {{ keyed_incremental_config('external_id', "{{ delete_unlisted_lines('" ~ documents_model ~ "') }}") }}
{%- endmacro %}

{% macro delete_unlisted_lines(documents_model) -%}
    delete from {{ this }} as built
    where not exists (
        select 1 from {{ ref(documents_model) }} as documents
        where documents.external_id = built.external_id and documents.input_fingerprint = built.input_fingerprint
    )
{%- endmacro %}

{#- After a model keyed on a staged model's rows builds (erp_transactions, invoice_lines): the rows whose key has no
    live row there any more go (deleted at the source, or gone from raw). For invoice_lines it also removes the lines
    of an invoice left with none: such an invoice has no row in the build's batch, so delete+insert on its key keeps
    its held lines. -#}
{% macro delete_without_live_row(staged_model, key) -%}
    delete from {{ this }} as built
    where not exists (
        select 1 from {{ ref(staged_model) }} as staged
        where staged.{{ key }} = built.{{ key }} and not staged.is_deleted
    )
{%- endmacro %}

{#- A raw table's `_q2c_load_seq` (the ingest run that wrote the row), or NULL for a raw table from before the
    sources wrote it (no ingest with the column yet): for a staging model's select list. -#}
{% macro load_seq_column(relation) -%}
    {%- if has_load_seq(relation) %}_q2c_load_seq{% else %}cast(null as bigint) as _q2c_load_seq{% endif %}
{%- endmacro %}

{#- Whether a relation has `_q2c_load_seq` (a raw table from before the sources wrote it has not); assumed while dbt
    parses, when nothing is read. -#}
{% macro has_load_seq(relation) -%}
    {%- if not execute %}{{ return(true) }}{% endif %}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list %}
    {{- return('_q2c_load_seq' in columns) }}
{%- endmacro %}
