-- What an incident's codes and qualifiers say about the report: one definition, used by
-- stg_incidents (every incident) and by int_candidates (candidates only: working them out after
-- choosing the candidates spares the three quarters of a large force's calls that are not).
-- Rule 1 (candidate crime) reads the codes' crime_indicative flags (stg_incidents); these are the
-- attributes the worklist's priorities and the groups of the rates come from.
-- Domestic abuse: the DA qualifier, or a domestic violence code (CR-DAVIOL) opening or closing the call.
create or replace macro incident_is_domestic_abuse(qualifiers, opening_code, closing_code) as
    coalesce(list_contains(qualifiers, 'DA'), false)
        or coalesce(opening_code = 'CR-DAVIOL' or closing_code = 'CR-DAVIOL', false);

-- A sexual element disclosed on the call, whatever offence it was coded as: the worklist puts it
-- with the sexual offences.
create or replace macro incident_has_sexual_element(qualifiers) as
    coalesce(list_contains(qualifiers, 'SEXUAL'), false);

create or replace macro incident_has_vulnerable_victim(qualifiers) as
    coalesce(list_contains(qualifiers, 'VULN') or list_contains(qualifiers, 'CHILD'), false);

create or replace macro incident_is_rape_report(opening_code, closing_code) as
    coalesce(opening_code = 'CR-RAPE' or closing_code = 'CR-RAPE', false);

-- The group a call taker's codes point to, used when no crime record says better.
create or replace macro incident_crime_group_hint(opening_is_crime, opening_group_hint, closing_is_crime,
                                                  closing_group_hint, qualifiers) as
    coalesce(
        case when opening_is_crime then opening_group_hint end,
        case when closing_is_crime then closing_group_hint end,
        case when list_contains(qualifiers, 'SEXUAL') then 'SEXUAL_OFFENCES' end,
        case when list_contains(qualifiers, 'INJURY')
              or list_contains(qualifiers, 'WEAPON') then 'VIOLENCE_AGAINST_THE_PERSON' end
    );
