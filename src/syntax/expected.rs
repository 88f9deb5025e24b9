//! Human names for grammar rules, so that syntax errors say "expected a code
//! list", never "expected code_list".

use super::parser::GrammarRule as R;

/// What to call `rule` in "expected ..." messages; `None` hides it (whitespace,
/// helper rules).
pub(crate) fn describe(rule: R) -> Option<&'static str> {
    Some(match rule {
        R::EOI => "the end of the file",
        R::file | R::module => "`policy` or `library`",
        R::import | R::kw_import => "`import`",
        R::module_kind | R::kw_policy | R::kw_library => "`policy` or `library`",
        R::name | R::set_name => "a name",
        R::string => "a quoted string",
        R::doc => "a doc comment (`///`)",
        R::payer_decl | R::kw_payer => "`payer`",
        R::payer_ids_decl | R::kw_payer_ids => "`payer-ids`",
        R::version_decl | R::kw_version => "`version`",
        R::effective_decl | R::kw_effective => "`effective`",
        R::source_decl | R::kw_source => "`source`",
        R::codes_decl | R::kw_codes => "a code set (`codes`)",
        R::region_decl | R::kw_region => "a region (`region`)",
        R::rule_decl | R::kw_rule => "a rule",
        R::set_expr | R::set_term => "a code set name or a code list",
        R::module_item => "a header item, a code set, a region or a rule",
        R::header_item => "a header item (`payer`, `version`, `effective` or `source`)",
        R::check => "a check (`require`, `limit`, `interval`) or an action",
        R::operand | R::literal => "a value",
        R::set_op => "`+` or `-`",
        R::code_list | R::code_system | R::kw_cpt | R::kw_hcpcs | R::kw_icd10 => {
            "a code list (`cpt`, `hcpcs` or `icd10` followed by codes)"
        }
        R::code | R::code_entry | R::code_range | R::code_prefix | R::code_text => "a code",
        R::when_clause | R::kw_when => "`when`",
        R::require_check | R::kw_require => "`require`",
        R::limit_check | R::kw_limit => "`limit`",
        R::interval_check | R::kw_interval => "`interval`",
        R::kw_else => "`else`",
        R::action | R::verb | R::kw_deny | R::kw_review | R::kw_allow => {
            "an action (`deny`, `review`, `allow`)"
        }
        R::carc => "a group and reason code such as `CO-50`",
        R::rarc_list | R::kw_rarc => "`rarc`",
        R::rarc => "a remark code such as `N115`",
        R::message | R::kw_message => "`message`",
        R::period | R::kw_day => "`day`, a number of days or months, or `calendar year`",
        R::length => "a number of days or months, or `calendar year`",
        R::calendar_year | R::kw_calendar => "`calendar year`",
        R::kw_year => "`year`",
        R::from_first | R::kw_from => "`from first`",
        R::kw_first => "`first`",
        R::time_unit | R::kw_days | R::kw_months => "`days` or `months`",
        R::site_scope | R::code_scope | R::region_scope | R::kw_per => "`per`",
        R::kw_code => "`code`",
        R::kw_site => "`site`",
        R::unsited | R::kw_unsited => "`or unsited`",
        R::modifier_scope | R::kw_with => "`with modifier`",
        R::kw_modifier => "`modifier`",
        R::kw_to => "`to`",
        R::kw_at => "`at`",
        R::kw_least => "`least`",
        R::expr | R::or_expr | R::and_expr | R::not_expr | R::predicate | R::not_op | R::kw_not => {
            "a condition"
        }
        R::kw_or => "`or`",
        R::kw_and => "`and`",
        R::compare_tail | R::compare_op => "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
        R::in_tail | R::in_op | R::kw_in | R::kw_any | R::kw_all => "`in`",
        R::has_tail | R::kw_has => "`has`",
        R::exists_tail | R::kw_exists | R::kw_is | R::kw_missing => "`exists` or `is missing`",
        R::quantifier | R::quant | R::kw_some | R::kw_no | R::kw_every => "`some other line (...)`",
        R::kw_other => "`other`",
        R::kw_line => "`line`",
        R::same_day_quantifier => "`some other service on same day (...)`",
        R::kw_service => "`service`",
        R::count | R::kw_count => "`count(...)`",
        R::sum | R::kw_sum => "`sum(...)`",
        R::measure | R::kw_units | R::kw_charges | R::kw_dates => "`units`, `charges` or `dates`",
        R::bilateral | R::kw_bilateral => "`bilateral as`",
        R::kw_as => "`as`",
        R::amount => "a number",
        R::window
        | R::within
        | R::kw_within
        | R::in_period
        | R::same_day
        | R::kw_on
        | R::kw_same => "a window (`within N days`, `in calendar year` or `on same day`)",
        R::before | R::kw_before => "`before`",
        R::field | R::field_part => "a field such as `line.procedure`",
        R::date => "a date (YYYY-MM-DD)",
        R::number => "a number",
        R::integer => "a whole number",
        R::boolean | R::kw_true | R::kw_false => "`true` or `false`",
        R::list => "a list (`[...]`)",
        R::WHITESPACE
        | R::COMMENT
        | R::item_alone
        | R::head
        | R::trailing
        | R::keyword
        | R::ident_char
        | R::string_inner => return None,
    })
}
