-- SPDX-License-Identifier: MIT
-- db/demo/seed.sql: the demo data set of acsfield, generated in SQL.
--
-- Run by `fieldd seed-demo` inside its one transaction, after it has created the demo users
-- and listed them in the temporary table demo_user (id, role, name, skills, region). It makes
-- about 40 clients (property management companies, business centres, plants, cottage
-- village partnerships), 60-80 sites of every kind, about 250 turnstile and reader
-- controllers, 200 tickets over the last 90 days in every status with a consistent event
-- history, jobs in every status with their assignments, events and outcomes, projects in
-- every stage, customer satisfaction answers and a few firmware images.
--
-- Times are relative to now() (or to the setting acs.demo_now when it is set, which the
-- tests use to try other days of the week). setseed() makes the choices repeatable; ids are
-- random. The SLA due times are the plain policy durations (15 min / 4 h for emergencies,
-- 2 h / 3 days standard, 8 h / 5 days consultation) without the business calendar.
--
-- The script ends by checking its own result (event chains, times, no double booking) and
-- raises an error, rolling everything back, if anything is inconsistent.

SELECT setseed(0.4242);

------------------------------------------------------------------------------------------
-- Helpers (temporary: they disappear with the session).

CREATE FUNCTION pg_temp.demo_now() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('acs.demo_now', true), '')::timestamptz, now())
$$;

-- A random element of a.
CREATE FUNCTION pg_temp.demo_pick(a text[]) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT a[1 + floor(random() * cardinality(a))::int]
$$;

-- A random number in [lo, hi).
CREATE FUNCTION pg_temp.demo_rand(lo double precision, hi double precision)
RETURNS double precision
LANGUAGE sql VOLATILE AS $$
    SELECT lo + random() * (hi - lo)
$$;

-- t0 plus lo..hi minutes; when that would reach `cap` (usually now), a point between t0 and
-- cap instead, so that what has happened stays in the past.
CREATE FUNCTION pg_temp.demo_after(t0 timestamptz, lo double precision, hi double precision,
                                   cap timestamptz DEFAULT 'infinity')
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    x timestamptz := t0 + (lo + random() * (hi - lo)) * interval '1 minute';
BEGIN
    IF x >= cap THEN
        x := t0 + (cap - t0) * (0.2 + random() * 0.5);
    END IF;
    RETURN x;
END $$;

-- When a visit booked at p_after starts: an emergency within 30-90 minutes; other work in a
-- working-day slot (09:00-16:30 local time, Monday to Friday), the same day when there is
-- still time, else the next working day. A visit that must have happened by p_latest but
-- would not have falls between p_after and p_latest.
CREATE FUNCTION pg_temp.demo_visit_start(p_after timestamptz, p_tz text, p_urgent boolean,
                                         p_latest timestamptz DEFAULT 'infinity')
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    loc timestamp := p_after AT TIME ZONE p_tz;
    d date := loc::date;
    slot timestamp;
    x timestamptz;
BEGIN
    IF p_urgent THEN
        x := p_after + (30 + floor(random() * 61)) * interval '1 minute';
    ELSE
        slot := date_trunc('hour', loc) + interval '2 hours'
                + floor(random() * 3) * interval '30 minutes';
        IF extract(isodow FROM d) <= 5 AND slot::date = d AND slot::time >= time '09:00'
           AND slot::time <= time '16:30' AND random() < 0.4 THEN
            x := slot AT TIME ZONE p_tz;
        ELSE
            d := d + 1;
            WHILE extract(isodow FROM d) > 5 LOOP
                d := d + 1;
            END LOOP;
            x := (d + time '09:00' + floor(random() * 16) * interval '30 minutes') AT TIME ZONE p_tz;
        END IF;
    END IF;
    IF x > p_latest THEN
        x := p_after + (p_latest - p_after) * (0.2 + random() * 0.4);
    END IF;
    RETURN x;
END $$;

-- Bookings of the engineers' time, so that nobody is in two places at once.
CREATE TEMP TABLE demo_booking (
    engineer_id  uuid NOT NULL,
    busy         tstzrange NOT NULL
) ON COMMIT DROP;

-- Book an engineer who has all of p_skills for p_dur minutes from p_start: the first one free
-- (with 30 minutes of travel either side), preferring the site's region and field engineers
-- over the senior. When all are busy, an hour later, up to p_latest; then half an hour
-- earlier, down to p_earliest; past that, the least booked engineer at p_start (which the
-- final check reports as a double booking). The booking is kept unless p_reserve is false (a visit that
-- will be cancelled).
CREATE FUNCTION pg_temp.demo_book(p_skills text[], p_region text, p_start timestamptz,
                                  p_dur integer, p_earliest timestamptz, p_latest timestamptz,
                                  p_reserve boolean,
                                  OUT o_engineer uuid, OUT o_start timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    s timestamptz := p_start;
    step interval := interval '1 hour';
BEGIN
    LOOP
        SELECT u.id INTO o_engineer
          FROM demo_user u
         WHERE u.role IN ('engineer', 'senior') AND u.skills @> p_skills
           AND NOT EXISTS (
                 SELECT 1 FROM demo_booking b
                  WHERE b.engineer_id = u.id
                    AND b.busy && tstzrange(s - interval '30 minutes',
                                            s + (p_dur + 30) * interval '1 minute'))
         ORDER BY (u.region IS NOT DISTINCT FROM p_region) DESC, (u.role = 'engineer') DESC,
                  random()
         LIMIT 1;
        EXIT WHEN o_engineer IS NOT NULL;
        s := s + step;
        IF step > interval '0' AND s > p_latest THEN
            -- nobody free later in time: look earlier, in half hours
            step := interval '-30 minutes';
            s := p_start + step;
        END IF;
        IF step < interval '0' AND s < p_earliest THEN
            s := p_start;
            SELECT u.id INTO o_engineer
              FROM demo_user u
             WHERE u.role IN ('engineer', 'senior') AND u.skills @> p_skills
             ORDER BY (SELECT count(*) FROM demo_booking b WHERE b.engineer_id = u.id), u.name
             LIMIT 1;
            EXIT;
        END IF;
    END LOOP;
    IF o_engineer IS NULL THEN
        RAISE EXCEPTION 'demo seed: no demo engineer has the skills %', p_skills;
    END IF;
    o_start := s;
    IF p_reserve THEN
        INSERT INTO demo_booking VALUES (o_engineer, tstzrange(s, s + p_dur * interval '1 minute'));
    END IF;
END $$;

------------------------------------------------------------------------------------------
-- Clients.

CREATE TEMP TABLE demo_city ON COMMIT DROP AS
SELECT * FROM (VALUES
    ('Moscow',        'Europe/Moscow',      55.7558, 37.6173, NULL,     '495', 'Moscow'),
    ('Khimki',        'Europe/Moscow',      55.8887, 37.4303, 'north',  '495', 'Moscow Oblast'),
    ('Mytishchi',     'Europe/Moscow',      55.9116, 37.7308, 'north',  '495', 'Moscow Oblast'),
    ('Dmitrov',       'Europe/Moscow',      56.3441, 37.5204, 'north',  '496', 'Moscow Oblast'),
    ('Balashikha',    'Europe/Moscow',      55.7963, 37.9382, 'east',   '495', 'Moscow Oblast'),
    ('Podolsk',       'Europe/Moscow',      55.4312, 37.5446, 'south',  '496', 'Moscow Oblast'),
    ('Vidnoe',        'Europe/Moscow',      55.5517, 37.7088, 'south',  '495', 'Moscow Oblast'),
    ('Odintsovo',     'Europe/Moscow',      55.6780, 37.2777, 'west',   '495', 'Moscow Oblast'),
    ('Krasnogorsk',   'Europe/Moscow',      55.8204, 37.3302, 'west',   '495', 'Moscow Oblast'),
    ('Istra',         'Europe/Moscow',      55.9146, 36.8600, 'west',   '498', 'Moscow Oblast'),
    ('Yekaterinburg', 'Asia/Yekaterinburg', 56.8389, 60.6057, 'ural',   '343', 'Sverdlovsk Oblast'),
    ('Chelyabinsk',   'Asia/Yekaterinburg', 55.1644, 61.4368, 'ural',   '351', 'Chelyabinsk Oblast'),
    ('Tyumen',        'Asia/Yekaterinburg', 57.1530, 65.5343, 'ural',   '3452', 'Tyumen Oblast'),
    ('Perm',          'Asia/Yekaterinburg', 58.0105, 56.2502, 'ural',   '342', 'Perm Krai')
) v(city, tz, lat, lon, region, phone_code, oblast);

-- ckind: uk = property management company (residential complexes), bc = business centre
-- operator, plant = factory or warehouse operator, village = cottage village partnership.
-- site_base names the site(s) where the client's own name does not.
CREATE TEMP TABLE demo_client ON COMMIT DROP AS
SELECT v.ord, gen_random_uuid() AS id, v.name, v.ckind, v.city, v.site_base,
       CASE v.ckind WHEN 'uk' THEN 2 + (random() < 0.5)::int
                    WHEN 'bc' THEN 1 + (random() < 0.5)::int
                    WHEN 'plant' THEN 1 + (random() < 0.5)::int
                    ELSE 1 + (random() < 0.15)::int END AS n_sites,
       pg_temp.demo_pick(ARRAY['Elena Petrova', 'Mikhail Orlov', 'Natalia Smirnova',
           'Sergey Kovalev', 'Tatiana Morozova', 'Viktor Zaitsev', 'Anna Belova', 'Igor Sorokin',
           'Marina Volkova', 'Roman Egorov', 'Svetlana Pavlova', 'Oleg Nikitin',
           'Yulia Makarova', 'Denis Frolov', 'Ekaterina Guseva', 'Vladimir Titov']) AS contact_name,
       floor(random() * 1000)::int AS phone_a, floor(random() * 10000)::int AS phone_b,
       random() AS r_notes
FROM (VALUES
    ( 1, 'UK Severnaya Dolina',                'uk',      'Khimki',        NULL),
    ( 2, 'UK Zelenye Kvartaly',                'uk',      'Moscow',        NULL),
    ( 3, 'UK Solnechny Gorod',                 'uk',      'Moscow',        NULL),
    ( 4, 'UK Rechnoy Kvartal',                 'uk',      'Moscow',        NULL),
    ( 5, 'UK Park Legend',                     'uk',      'Odintsovo',     NULL),
    ( 6, 'UK Komfort Servis',                  'uk',      'Mytishchi',     NULL),
    ( 7, 'UK Vostochny Dvor',                  'uk',      'Balashikha',    NULL),
    ( 8, 'UK Yuzhnaya Zvezda',                 'uk',      'Podolsk',       NULL),
    ( 9, 'UK Dom Servis Plus',                 'uk',      'Moscow',        NULL),
    (10, 'UK Gorodskoy Komfort',               'uk',      'Krasnogorsk',   NULL),
    (11, 'UK Uralsky Dom',                     'uk',      'Yekaterinburg', NULL),
    (12, 'UK Novy Kvartal',                    'uk',      'Vidnoe',        NULL),
    (13, 'OOO Belaya Ploshchad Menedzhment',   'bc',      'Moscow',        'BC Belaya Ploshchad'),
    (14, 'OOO Krasnye Vorota Property',        'bc',      'Moscow',        'BC Krasnye Vorota'),
    (15, 'AO Meridian Development',            'bc',      'Moscow',        'BC Meridian'),
    (16, 'OOO Oruzheyny Ofis',                 'bc',      'Moscow',        'BC Oruzheyny'),
    (17, 'OOO Lefort Biznes Park',             'bc',      'Moscow',        'BC Lefort'),
    (18, 'OOO Vereyskaya Plaza Menedzhment',   'bc',      'Moscow',        'BC Vereyskaya Plaza'),
    (19, 'OOO Tekhnopark Sigma',               'bc',      'Khimki',        'Tekhnopark Sigma'),
    (20, 'OOO Delovoy Tsentr Kaluzhsky',       'bc',      'Moscow',        'DC Kaluzhsky'),
    (21, 'OOO Uralskie Zori Biznes',           'bc',      'Yekaterinburg', 'BC Uralskie Zori'),
    (22, 'OOO Podolsk Siti Ofis',              'bc',      'Podolsk',       'BC Podolsk Siti'),
    (23, 'AO Zavod Elektropribor',             'plant',   'Podolsk',       'Zavod Elektropribor'),
    (24, 'OOO Dmitrovsky Khimzavod',           'plant',   'Dmitrov',       'Dmitrovsky Khimzavod'),
    (25, 'AO Mashzavod Avangard',              'plant',   'Balashikha',    'Mashzavod Avangard'),
    (26, 'OOO Logisticheskiy Kompleks Vostok', 'plant',   'Balashikha',    'LK Vostok'),
    (27, 'AO Pishchekombinat Rassvet',         'plant',   'Vidnoe',        'Pishchekombinat Rassvet'),
    (28, 'OOO Sklad-Terminal Yug',             'plant',   'Moscow',        'Sklad-Terminal Yug'),
    (29, 'AO Ural Metallokonstruktsiya',       'plant',   'Yekaterinburg', 'Ural Metallokonstruktsiya'),
    (30, 'OOO Chelyabinsky Zavod Profil',      'plant',   'Chelyabinsk',   'Zavod Profil'),
    (31, 'AO Tyumensky Kabelny Zavod',         'plant',   'Tyumen',        'Tyumensky Kabelny Zavod'),
    (32, 'OOO Permskaya Tara',                 'plant',   'Perm',          'Permskaya Tara'),
    (33, 'TSN Sosnovy Bor',                    'village', 'Istra',         'KP Sosnovy Bor'),
    (34, 'DNP Lesnaya Polyana',                'village', 'Dmitrov',       'KP Lesnaya Polyana'),
    (35, 'TSN Berezki',                        'village', 'Odintsovo',     'KP Berezki'),
    (36, 'TSN Istra Village',                  'village', 'Istra',         'KP Istra Village'),
    (37, 'TSN Zolotye Klyuchi',                'village', 'Krasnogorsk',   'KP Zolotye Klyuchi'),
    (38, 'DNP Ozernoe',                        'village', 'Mytishchi',     'KP Ozernoe'),
    (39, 'TSN Solnechnaya Gorka',              'village', 'Vidnoe',        'KP Solnechnaya Gorka'),
    (40, 'TSN Uralskaya Zaimka',               'village', 'Yekaterinburg', 'KP Uralskaya Zaimka')
) v(ord, name, ckind, city, site_base)
ORDER BY v.ord;

INSERT INTO client (id, name, contact_name, contact_phone, contact_email, crm_ref, notes,
                    created_at, updated_at)
SELECT c.id, c.name, c.contact_name,
       format('+7 (%s) %s-%s-%s', y.phone_code, lpad(c.phone_a::text, 3, '0'),
              lpad((c.phone_b / 100)::text, 2, '0'), lpad((c.phone_b % 100)::text, 2, '0')),
       'dispatch@' || trim(BOTH '-' FROM lower(regexp_replace(
           regexp_replace(c.name, '^(UK|OOO|AO|TSN|DNP) ', ''), '[^A-Za-z]+', '-', 'g'))) || '.ru',
       format('CRM-C-%s', lpad(c.ord::text, 4, '0')),
       CASE WHEN c.r_notes < 0.4 THEN 'Service contract: 24/7 emergency response.'
            WHEN c.r_notes < 0.8 THEN 'Service contract: business hours, emergencies 24/7.'
            ELSE 'Time-and-materials client: quote every non-emergency visit.' END,
       pg_temp.demo_now() - interval '400 days' + c.ord * interval '3 days',
       pg_temp.demo_now() - interval '400 days' + c.ord * interval '3 days'
FROM demo_client c JOIN demo_city y ON y.city = c.city
ORDER BY c.ord;

------------------------------------------------------------------------------------------
-- Sites.

CREATE TEMP TABLE demo_site ON COMMIT DROP AS
WITH s AS (
    SELECT c.id AS client_id, c.ord AS client_ord, c.ckind, c.city, c.site_base, k,
           row_number() OVER (PARTITION BY c.ckind ORDER BY c.ord, k) AS kind_rank,
           row_number() OVER (ORDER BY c.ord, k) AS ord
    FROM demo_client c CROSS JOIN LATERAL generate_series(1, c.n_sites) k
)
SELECT s.ord, gen_random_uuid() AS id, s.client_id, s.client_ord, s.k,
       CASE s.ckind WHEN 'uk' THEN 'residential_complex' WHEN 'bc' THEN 'business_centre'
                    WHEN 'plant' THEN 'industrial' ELSE 'cottage_village' END AS kind,
       CASE s.ckind
           WHEN 'uk' THEN 'ZhK ' || (ARRAY['Severnaya Dolina', 'Zelenaya Roshcha', 'Rechnoy',
               'Sokolniki Park', 'Vesna', 'Poklonnaya 9', 'Serdtse Stolitsy', 'Lefortovo Park',
               'Belye Nochi', 'Prime Park', 'Tsaritsyno', 'Rumyantsevo Park',
               'Izumrudnye Kholmy', 'Sosnovaya Roshcha', 'Berezovy Kvartal', 'Yasny',
               'Lesnoy Kvartal', 'Nord', 'Zvezdny', 'Sady Pekhorki', 'Solnechny Bereg',
               'Zarechye', 'Severny Park', 'Vostochny Bereg', 'Kvartal Gagarina',
               'Letniy Sad', 'Skandinavsky', 'Novye Kvartaly', 'Utrenniy', 'Akvarel',
               'Yasnaya Polyana', 'Ozerny', 'Tikhiy Tsentr', 'Vremena Goda',
               'Preobrazhensky'])[1 + (s.kind_rank - 1)::int % 35]
           WHEN 'bc' THEN s.site_base || CASE s.k WHEN 1 THEN '' ELSE ', building B' END
           WHEN 'plant' THEN s.site_base || (ARRAY[', main site', ', warehouse complex',
                                                   ', logistics centre'])[s.k]
           ELSE s.site_base || CASE s.k WHEN 1 THEN '' ELSE ', phase 2' END
       END AS name,
       y.tz AS time_zone, y.city, y.oblast,
       -- Moscow's business centres are central; its other sites spread over the city
       coalesce(y.region, CASE WHEN s.ckind = 'bc' THEN 'centre' END,
                pg_temp.demo_pick(ARRAY['north', 'south', 'centre', 'east', 'west'])) AS region,
       y.lat + (random() - 0.5) * 0.12 AS latitude,
       y.lon + (random() - 0.5) * 0.2 AS longitude,
       CASE WHEN y.city = 'Moscow' THEN pg_temp.demo_pick(ARRAY['ul. Profsoyuznaya',
               'Leningradsky prospekt', 'ul. Bolshaya Tatarskaya', 'Kutuzovsky prospekt',
               'ul. Vavilova', 'Varshavskoe shosse', 'Dmitrovskoe shosse', 'ul. Lobnenskaya',
               'Volgogradsky prospekt', 'ul. Butyrskaya', 'Kashirskoe shosse',
               'ul. Vereyskaya', 'Kaluzhskaya ploshchad', 'ul. Krasnoproletarskaya'])
            ELSE pg_temp.demo_pick(ARRAY['ul. Lenina', 'ul. Sovetskaya', 'ul. Mira',
               'ul. Sadovaya', 'ul. Zavodskaya', 'Promyshlennaya ul.', 'ul. Gagarina',
               'ul. Molodezhnaya', 'Shosseynaya ul.', 'ul. Pobedy']) END AS street,
       1 + floor(random() * 140)::int AS house,
       CASE s.ckind
           WHEN 'uk' THEN pg_temp.demo_pick(ARRAY[
               'Keys to the equipment room at the management office, 1st floor of building 1.',
               'Concierge at entrance 1 lets engineers in; controllers are in the basement room.',
               'Call the UK dispatcher 30 minutes ahead; parking only in the guest car park.'])
           WHEN 'bc' THEN pg_temp.demo_pick(ARRAY[
               'Pass ordered through reception a day ahead; passport required.',
               'Enter through the goods entrance; security post escorts to the server room.',
               'Work in the lobby only before 08:00 or after 20:00, except emergencies.'])
           WHEN 'plant' THEN pg_temp.demo_pick(ARRAY[
               'Safety briefing at checkpoint 1 before the first visit; helmet and vest required.',
               'Vehicle pass needed for the territory; the chief power engineer accompanies.',
               'Photography forbidden on the territory; tools are checked at the gate.'])
           ELSE pg_temp.demo_pick(ARRAY[
               'Guard at the main gate; call the chairman of the partnership before arriving.',
               'Controllers in the guard house at the main gate; key at the guard.'])
       END AS access_notes
FROM s JOIN demo_client c ON c.id = s.client_id JOIN demo_city y ON y.city = c.city
ORDER BY s.ord;

INSERT INTO site (id, client_id, name, kind, time_zone, address, region, latitude, longitude,
                  access_notes, created_at, updated_at)
SELECT s.id, s.client_id, s.name, s.kind, s.time_zone,
       CASE WHEN s.kind = 'cottage_village'
            THEN format('%s, %s district, %s', s.oblast, s.city, s.name)
            ELSE format('%s, %s, %s', s.city, s.street, s.house) END,
       s.region, round(s.latitude::numeric, 5), round(s.longitude::numeric, 5), s.access_notes,
       pg_temp.demo_now() - interval '390 days' + s.client_ord * interval '3 days',
       pg_temp.demo_now() - interval '390 days' + s.client_ord * interval '3 days'
FROM demo_site s
ORDER BY s.ord;

------------------------------------------------------------------------------------------
-- Devices: turnstile controllers first on the bus, then reader controllers; every site has
-- at least one of each.

CREATE TEMP TABLE demo_device ON COMMIT DROP AS
WITH n AS MATERIALIZED (
    SELECT s.id AS site_id, s.ord AS site_ord, s.kind AS site_kind,
           CASE s.kind WHEN 'residential_complex' THEN 1 + (random() < 0.5)::int
                       WHEN 'business_centre' THEN 2 + floor(random() * 3)::int
                       WHEN 'industrial' THEN 2 + (random() < 0.5)::int
                       ELSE 1 END AS n_tc,
           CASE s.kind WHEN 'residential_complex' THEN 1 + floor(random() * 3)::int
                       WHEN 'business_centre' THEN 1 + (random() < 0.5)::int
                       WHEN 'industrial' THEN 1 + (random() < 0.5)::int
                       ELSE 1 + (random() < 0.5)::int END AS n_rc
    FROM demo_site s ORDER BY s.ord
), u AS (
    SELECT n.site_id, n.site_ord, n.site_kind, 'turnstile_controller' AS kind, k, k AS unit_id
    FROM n CROSS JOIN LATERAL generate_series(1, n.n_tc) k
    UNION ALL
    SELECT n.site_id, n.site_ord, n.site_kind, 'reader_controller', k, n.n_tc + k
    FROM n CROSS JOIN LATERAL generate_series(1, n.n_rc) k
), m AS MATERIALIZED (
    SELECT u.*, row_number() OVER (ORDER BY u.site_ord, u.unit_id) AS ord, random() AS r_model
    FROM u ORDER BY u.site_ord, u.unit_id
), d AS MATERIALIZED (
    SELECT m.*,
           CASE WHEN m.kind = 'turnstile_controller'
                THEN CASE WHEN m.r_model < 0.6 THEN 'TC-200' WHEN m.r_model < 0.85 THEN 'TC-210'
                          ELSE 'TC-300' END
                ELSE CASE WHEN m.r_model < 0.6 THEN 'RC-50' WHEN m.r_model < 0.85 THEN 'RC-55'
                          ELSE 'RC-60' END END AS model
    FROM m ORDER BY m.ord
)
SELECT d.ord, gen_random_uuid() AS id, d.site_id, d.kind, d.model, d.unit_id,
       CASE d.model
           WHEN 'TC-200' THEN pg_temp.demo_pick(ARRAY['2.3.1', '2.3.4', '2.4.0', '2.4.0'])
           WHEN 'TC-210' THEN pg_temp.demo_pick(ARRAY['2.4.0', '2.4.2'])
           WHEN 'TC-300' THEN pg_temp.demo_pick(ARRAY['3.0.1', '3.1.0'])
           WHEN 'RC-50' THEN pg_temp.demo_pick(ARRAY['1.8.2', '1.9.0', '1.9.3', '1.9.3'])
           WHEN 'RC-55' THEN pg_temp.demo_pick(ARRAY['1.9.3', '2.0.0'])
           ELSE pg_temp.demo_pick(ARRAY['2.1.0', '2.1.1']) END AS firmware_version,
       (pg_temp.demo_now() - CASE WHEN d.model IN ('TC-300', 'RC-60')
                                  THEN (30 + floor(random() * 600)) * interval '1 day'
                                  ELSE (400 + floor(random() * 1800)) * interval '1 day'
                             END)::date AS installed_on,
       CASE WHEN d.kind = 'turnstile_controller' THEN
           CASE d.site_kind
               WHEN 'residential_complex' THEN (ARRAY['Main gate', 'Entrance 2'])[d.k]
               WHEN 'business_centre' THEN 'Main lobby, lane ' || d.k
               WHEN 'industrial' THEN (ARRAY['Checkpoint 1, lane 1', 'Checkpoint 1, lane 2',
                                             'Checkpoint 2, lane 1'])[d.k]
               ELSE 'Main gate' END
       ELSE
           CASE d.site_kind
               WHEN 'residential_complex' THEN (ARRAY['Entrance 1 door', 'Car park barrier',
                                                      'Courtyard gate'])[d.k]
               WHEN 'business_centre' THEN (ARRAY['Car park barrier', 'Goods entrance'])[d.k]
               WHEN 'industrial' THEN (ARRAY['Vehicle gate', 'Warehouse door'])[d.k]
               ELSE (ARRAY['Main gate barrier', 'Service gate'])[d.k] END
       END AS location
FROM d ORDER BY d.ord;

INSERT INTO device (id, site_id, kind, model, serial, location, bus, unit_id, firmware_version,
                    installed_on, created_at, updated_at)
SELECT d.id, d.site_id, d.kind, d.model,
       format('%s-%s-%s', replace(d.model, '-', ''), to_char(d.installed_on, 'YY'),
              lpad(d.ord::text, 5, '0')),
       d.location, 'rs485-1', d.unit_id, d.firmware_version, d.installed_on,
       pg_temp.demo_now() - interval '380 days', pg_temp.demo_now() - interval '380 days'
FROM demo_device d
ORDER BY d.ord;

------------------------------------------------------------------------------------------
-- Ticket skeletons: status, category, age, site and device. Statuses are dealt by number so
-- that every one is present; the age fits the status (a new emergency is minutes old, a
-- closed ticket days to weeks).

CREATE TEMP TABLE demo_t ON COMMIT DROP AS
WITH g AS MATERIALIZED (
    SELECT g,
           CASE WHEN g <= 6 THEN 'new' WHEN g <= 14 THEN 'acknowledged'
                WHEN g <= 34 THEN 'in_progress' WHEN g <= 44 THEN 'waiting_client'
                WHEN g <= 66 THEN 'resolved' ELSE 'closed' END AS status,
           random() AS r_cat, random() AS r_age, random() AS r_site, random() AS r_kind,
           random() AS r_crm
    FROM generate_series(1, 200) g
), c AS MATERIALIZED (
    SELECT g.*,
           CASE WHEN g.g IN (1, 7, 15, 35, 45, 67) THEN 'emergency'
                WHEN g.g IN (2, 8, 18, 36, 46, 68) THEN 'consultation'
                WHEN g.r_cat < 0.2 THEN 'emergency' WHEN g.r_cat < 0.8 THEN 'standard'
                ELSE 'consultation' END AS category
    FROM g ORDER BY g.g
), a AS MATERIALIZED (
    SELECT c.*,
           pg_temp.demo_now() - (CASE
               WHEN c.status = 'new' THEN CASE c.category WHEN 'emergency' THEN 2 + c.r_age * 10
                                          WHEN 'standard' THEN 10 + c.r_age * 170
                                          ELSE 10 + c.r_age * 290 END
               WHEN c.status = 'acknowledged' THEN
                   CASE c.category WHEN 'emergency' THEN 25 + c.r_age * 25
                                   WHEN 'standard' THEN 120 + c.r_age * 1440
                                   ELSE 60 + c.r_age * 1140 END
               WHEN c.status = 'in_progress' THEN
                   CASE c.category WHEN 'emergency' THEN 90 + c.r_age * 210
                                   WHEN 'standard' THEN 1440 + c.r_age * 7200
                                   ELSE 240 + c.r_age * 4080 END
               WHEN c.status = 'waiting_client' THEN 2880 + c.r_age * 17280
               WHEN c.status = 'resolved' THEN 2160 + c.r_age * 7920
               ELSE 7200 + c.r_age * 122400 END) * interval '1 minute' AS created_at,
           (SELECT s.id FROM demo_site s
             WHERE s.ord = 1 + floor(c.r_site * (SELECT count(*) FROM demo_site))::int) AS site_id
    FROM c ORDER BY c.g
)
SELECT a.g, gen_random_uuid() AS id, a.status, a.category, a.created_at, a.site_id,
       s.client_id,
       CASE WHEN a.category = 'consultation' THEN NULL
            WHEN a.r_kind < 0.55 THEN 'turnstile_controller' ELSE 'reader_controller' END
           AS device_kind,
       NULL::uuid AS device_id,
       CASE WHEN a.r_crm < 0.4
            THEN format('CRM-%s-%s', to_char(a.created_at, 'YY'), lpad((4100 + a.g)::text, 6, '0'))
       END AS crm_ref,
       row_number() OVER (PARTITION BY a.status ORDER BY a.g) - 1 AS sub,
       ''::text AS subject, ''::text AS description,
       NULL::text AS reporter_name, NULL::text AS reporter_phone,
       NULL::timestamptz AS first_contact_at, NULL::timestamptz AS resolved_at,
       NULL::timestamptz AS closed_at, NULL::timestamptz AS first_contact_due,
       NULL::timestamptz AS resolution_due, NULL::uuid AS repeat_of,
       NULL::uuid AS created_by, a.created_at AS updated_at
FROM a JOIN demo_site s ON s.id = a.site_id
ORDER BY a.g;

UPDATE demo_t t
   SET device_id = (SELECT d.id FROM demo_device d
                     WHERE d.site_id = t.site_id AND d.kind = t.device_kind
                     ORDER BY random() LIMIT 1)
 WHERE t.device_kind IS NOT NULL;

-- Some faults come back: every eleventh ticket is about the device of a ticket closed 4 to
-- 28 days before it (the repeat link itself is made once the times are known).
UPDATE demo_t t
   SET site_id = p.site_id, client_id = p.client_id, device_id = p.device_id,
       device_kind = p.device_kind
  FROM (SELECT DISTINCT ON (t2.id) t2.id AS tid, p2.site_id, p2.client_id, p2.device_id,
               p2.device_kind
          FROM demo_t t2
          JOIN demo_t p2 ON p2.status = 'closed' AND p2.device_id IS NOT NULL
                        AND p2.created_at BETWEEN t2.created_at - interval '28 days'
                                              AND t2.created_at - interval '4 days'
         WHERE t2.g % 11 = 0 AND t2.device_id IS NOT NULL
         ORDER BY t2.id, p2.created_at DESC) p
 WHERE t.id = p.tid;

UPDATE demo_t t
   SET subject = replace(replace(pg_temp.demo_pick(CASE
           WHEN t.category = 'consultation' THEN ARRAY[
               'Consultation: adding 40 new residents'' cards',
               'Consultation: exporting the passage log for last month',
               'Consultation: configuring a guest access schedule',
               'Consultation: blocking lost and stolen cards',
               'Consultation: holiday access mode for the New Year week',
               'Consultation: connecting an additional reader to the existing bus',
               'Consultation: training new security staff on the turnstile console',
               'Consultation: extending the service contract to a second building',
               'Consultation: access for a contractor team for two weeks']
           WHEN t.category = 'emergency' AND t.device_kind = 'turnstile_controller' THEN ARRAY[
               'Turnstile at {loc} does not unlock on valid card',
               'Turnstile {model} at {loc} stuck open, free passage',
               'Turnstile at {loc} does not release on fire alarm signal',
               'Turnstile controller {model} at {loc} offline after power cut',
               'Turnstile at {loc} blocked in both directions, queue at the entrance']
           WHEN t.category = 'emergency' THEN ARRAY[
               'Reader {model} not reading cards after power cut ({loc})',
               'Reader at {loc} rejects all cards, nobody can enter',
               'Reader controller at {loc} offline, door held locked',
               'Reader at {loc} shows constant red LED, no access']
           WHEN t.device_kind = 'turnstile_controller' THEN ARRAY[
               'Turnstile at {loc} counts one passage twice',
               'Turnstile {model} at {loc} unlocks with a 3-4 s delay',
               'Tamper alarm from the turnstile controller at {loc}',
               'Turnstile at {loc} logs passages with the wrong time',
               'Intermittent RS-485 communication errors with the turnstile at {loc}',
               'Turnstile arm at {loc} returns slowly, noise from the drive']
           ELSE ARRAY[
               'Reader at {loc} intermittently rejects valid cards',
               'Reader {model} at {loc} reads cards only at 1-2 cm',
               'Event log of the reader controller at {loc} does not download',
               'Reader at {loc} beeps twice but the door does not open',
               'Request: update the firmware of reader {model} at {loc}']
       END), '{loc}', coalesce(lower(left(x.location, 1)) || substr(x.location, 2), '')),
       '{model}', coalesce(x.model, '')),
       reporter_name = pg_temp.demo_pick(ARRAY['Elena Petrova', 'Mikhail Orlov',
           'Natalia Smirnova', 'Sergey Kovalev', 'Tatiana Morozova', 'Viktor Zaitsev',
           'Anna Belova', 'Igor Sorokin', 'Marina Volkova', 'Roman Egorov', 'Svetlana Pavlova',
           'Oleg Nikitin', 'Yulia Makarova', 'Denis Frolov', 'Ekaterina Guseva',
           'Vladimir Titov', 'Irina Kiseleva', 'Konstantin Belyaev', 'Larisa Romanova',
           'Aleksandr Golubev']),
       reporter_phone = format('+7 9%s %s-%s-%s', lpad(floor(random() * 100)::text, 2, '0'),
                               lpad(floor(random() * 1000)::text, 3, '0'),
                               lpad(floor(random() * 100)::text, 2, '0'),
                               lpad(floor(random() * 100)::text, 2, '0')),
       first_contact_due = t.created_at + CASE t.category WHEN 'emergency' THEN interval '15 minutes'
                                            WHEN 'standard' THEN interval '2 hours'
                                            ELSE interval '8 hours' END,
       resolution_due = t.created_at + CASE t.category WHEN 'emergency' THEN interval '4 hours'
                                         WHEN 'standard' THEN interval '3 days'
                                         ELSE interval '5 days' END,
       created_by = CASE WHEN t.crm_ref IS NULL
                         THEN (SELECT id FROM demo_user WHERE role = 'dispatcher' LIMIT 1) END
  FROM (SELECT t2.id, d.location, d.model
          FROM demo_t t2 LEFT JOIN demo_device d ON d.id = t2.device_id) x
 WHERE x.id = t.id;

UPDATE demo_t t
   SET description = format('Reported by %s (%s). %s', t.reporter_name,
           pg_temp.demo_pick(ARRAY['security post', 'building manager', 'facility manager',
                                   'duty officer', 'reception', 'chief engineer']),
           pg_temp.demo_pick(CASE t.category
               WHEN 'emergency' THEN ARRAY[
                   'People are queuing; security has opened the side gate by hand.',
                   'Started this morning after a short power outage in the building.',
                   'Security keeps the passage open manually until an engineer arrives.',
                   'Fire safety inspection tomorrow: must be fixed today.']
               WHEN 'standard' THEN ARRAY[
                   'Happens several times a day, mostly in the morning rush.',
                   'Noticed after the weekend; the controller display shows E-12.',
                   'Security staff restart the controller to clear it; it comes back within hours.',
                   'Residents have complained twice this week.',
                   'No urgency: a visit on a working day is fine.']
               ELSE ARRAY[
                   'Please send instructions by e-mail.',
                   'Would like a call back from an engineer.',
                   'Asks whether this is covered by the service contract.'] END));

------------------------------------------------------------------------------------------
-- Staging of everything with a history; inserted in time order at the end so that event
-- ids follow time.

CREATE TEMP TABLE demo_j (LIKE job INCLUDING DEFAULTS) ON COMMIT DROP;
CREATE TEMP TABLE demo_o (LIKE outcome INCLUDING DEFAULTS) ON COMMIT DROP;
CREATE TEMP TABLE demo_asg (
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    job_id          uuid NOT NULL,
    engineer_id     uuid NOT NULL,
    planned_start   timestamptz NOT NULL,
    planned_end     timestamptz NOT NULL,
    assigned_by     uuid,
    assigned_at     timestamptz NOT NULL,
    override_reason text,
    ended_at        timestamptz
) ON COMMIT DROP;
CREATE TEMP TABLE demo_tev (
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    ticket_id    uuid NOT NULL,
    at           timestamptz NOT NULL,
    kind         text NOT NULL,
    from_status  text,
    to_status    text,
    actor_id     uuid,
    note         text,
    data         jsonb NOT NULL DEFAULT '{}'
) ON COMMIT DROP;
CREATE TEMP TABLE demo_jev (
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    job_id       uuid NOT NULL,
    at           timestamptz NOT NULL,
    kind         text NOT NULL,
    from_status  text,
    to_status    text,
    actor_id     uuid,
    note         text,
    data         jsonb NOT NULL DEFAULT '{}'
) ON COMMIT DROP;

-- Stage one job with its events, assignments and (for done / needs_revisit) its outcome.
--
--   planned -> assigned [-> reassigned] -> en_route -> on_site -> done | needs_revisit
--                      \-> cancelled
--
-- p_created is when the dispatcher created it, p_start the wished start of the visit (the
-- booking may move it later, up to p_latest). Times that have happened stay before now.
CREATE FUNCTION pg_temp.demo_job(
    p_ticket uuid, p_project uuid, p_site uuid, p_kind text, p_status text, p_skills text[],
    p_title text, p_priority integer, p_dur integer, p_created timestamptz,
    p_start timestamptz, p_latest timestamptz, p_outcome text, p_reassign boolean,
    OUT o_job uuid, OUT o_engineer uuid, OUT o_finished timestamptz, OUT o_outcome uuid)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    nw timestamptz := pg_temp.demo_now();
    disp uuid := (SELECT id FROM demo_user WHERE role = 'dispatcher' LIMIT 1);
    st record;
    bk record;
    first_eng uuid;
    p timestamptz;
    pe timestamptz;
    g timestamptz;
    e timestamptz;
    ar timestamptz;
    f timestamptz;
    ws timestamptz;
    we timestamptz;
    last_at timestamptz := p_created;
    pick integer;
BEGIN
    SELECT * INTO st FROM demo_site WHERE id = p_site;
    o_job := gen_random_uuid();
    INSERT INTO demo_jev (job_id, at, kind, from_status, to_status, actor_id, data)
    VALUES (o_job, p_created, 'created', NULL, 'planned', disp,
            jsonb_build_object('kind', p_kind, 'title', p_title, 'site_id', p_site));

    IF p_status <> 'planned' THEN
        SELECT * INTO bk FROM pg_temp.demo_book(p_skills, st.region, p_start, p_dur,
                                                p_created + interval '20 minutes', p_latest,
                                                p_status <> 'cancelled');
        o_engineer := bk.o_engineer;
        p := bk.o_start;
        pe := p + p_dur * interval '1 minute';
        g := p_created + (least(p, nw) - p_created) * pg_temp.demo_rand(0.05, 0.3);
        IF p_reassign THEN
            first_eng := (SELECT u.id FROM demo_user u
                           WHERE u.role = 'engineer' AND u.skills @> p_skills
                             AND u.id <> o_engineer
                           ORDER BY random() LIMIT 1);
        END IF;
        IF first_eng IS NOT NULL THEN
            INSERT INTO demo_jev (job_id, at, kind, from_status, to_status, actor_id, data)
            VALUES (o_job, g, 'assign', 'planned', 'assigned', disp,
                    jsonb_build_object('engineer_id', first_eng, 'planned_start', p,
                                       'planned_end', pe, 'previous_engineer_id', NULL));
            last_at := g + (least(p, nw) - g) * pg_temp.demo_rand(0.2, 0.4);
            INSERT INTO demo_asg (job_id, engineer_id, planned_start, planned_end, assigned_by,
                                  assigned_at, ended_at)
            VALUES (o_job, first_eng, p, pe, disp, g, last_at);
            INSERT INTO demo_jev (job_id, at, kind, from_status, to_status, actor_id, note, data)
            VALUES (o_job, last_at, 'assign', 'assigned', 'assigned', disp,
                    pg_temp.demo_pick(ARRAY['Reassigned: the engineer is on sick leave',
                        'Reassigned: the previous visit on the same day overran',
                        'Reassigned: closer engineer available']),
                    jsonb_build_object('engineer_id', o_engineer, 'planned_start', p,
                                       'planned_end', pe, 'previous_engineer_id', first_eng));
        ELSE
            last_at := g;
            INSERT INTO demo_jev (job_id, at, kind, from_status, to_status, actor_id, data)
            VALUES (o_job, g, 'assign', 'planned', 'assigned', disp,
                    jsonb_build_object('engineer_id', o_engineer, 'planned_start', p,
                                       'planned_end', pe, 'previous_engineer_id', NULL));
        END IF;
        INSERT INTO demo_asg (job_id, engineer_id, planned_start, planned_end, assigned_by,
                              assigned_at)
        VALUES (o_job, o_engineer, p, pe, disp, last_at);

        IF p_status = 'cancelled' THEN
            f := last_at + (least(p, nw) - last_at) * pg_temp.demo_rand(0.3, 0.8);
            last_at := f;
            UPDATE demo_asg SET ended_at = f WHERE job_id = o_job AND ended_at IS NULL;
            INSERT INTO demo_jev (job_id, at, kind, from_status, to_status, actor_id, note)
            VALUES (o_job, f, 'cancel', 'assigned', 'cancelled', disp,
                    pg_temp.demo_pick(ARRAY['Client asked to postpone the visit',
                        'Client''s staff restarted the controller; works again',
                        'Duplicate of another visit on the same site',
                        'No access to the site on that day']));
        ELSIF p_status IN ('en_route', 'on_site', 'done', 'needs_revisit') THEN
            -- on the way 20-50 minutes before the slot, after the assignment, never ahead of now
            e := greatest(p - pg_temp.demo_rand(20, 50) * interval '1 minute',
                          last_at + (least(p, nw) - last_at) * 0.5);
            IF e >= nw THEN
                e := last_at + (nw - last_at) * pg_temp.demo_rand(0.5, 0.9);
            END IF;
            last_at := e;
            INSERT INTO demo_jev (job_id, at, kind, from_status, to_status, actor_id)
            VALUES (o_job, e, 'en_route', 'assigned', 'en_route', o_engineer);
            IF p_status <> 'en_route' THEN
                ar := greatest(p + pg_temp.demo_rand(-10, 15) * interval '1 minute',
                               e + interval '10 minutes');
                IF ar >= nw THEN
                    ar := e + (nw - e) * pg_temp.demo_rand(0.5, 0.9);
                END IF;
                last_at := ar;
                INSERT INTO demo_jev (job_id, at, kind, from_status, to_status, actor_id)
                VALUES (o_job, ar, 'on_site', 'en_route', 'on_site', o_engineer);
            END IF;
            IF p_status IN ('done', 'needs_revisit') THEN
                f := ar + p_dur * pg_temp.demo_rand(0.6, 1.2) * interval '1 minute';
                IF f >= nw THEN
                    f := ar + (nw - ar) * pg_temp.demo_rand(0.5, 0.9);
                END IF;
                last_at := f;
                pick := 1 + floor(random() * 3)::int;
                o_outcome := gen_random_uuid();
                INSERT INTO demo_o (id, job_id, ticket_id, resolution_code, resolved_ticket, notes,
                                    parts, time_on_site_min, recorded_by, created_at)
                VALUES (o_outcome, o_job, p_ticket, p_outcome,
                        p_ticket IS NOT NULL AND p_outcome <> 'not_resolved',
                        CASE p_outcome
                            WHEN 'repaired' THEN (ARRAY[
                                'Re-crimped the RS-485 terminal block and reseated the connector; 20 test passages OK.',
                                'Cleaned and adjusted the rotation sensor; passages are counted correctly again.',
                                'Tightened loose power terminals on the controller; no further resets in 2 hours of observation.'])[pick]
                            WHEN 'part_replaced' THEN (ARRAY[
                                'Replaced the failing 12 V power supply; voltage under load 12.1 V.',
                                'Replaced the lock solenoid; unlock time back to 0.3 s.',
                                'Replaced the reader head damaged by water; reads at 5 cm again.'])[pick]
                            WHEN 'reconfigured' THEN (ARRAY[
                                'Restored unit id and baud rate (19200 8E1) after the client''s contractor reset the controller.',
                                'Corrected the access schedule and the controller clock, which was 3 hours behind.',
                                'Re-enabled the fire alarm input and tested the release with the client''s fire panel.'])[pick]
                            WHEN 'firmware_updated' THEN
                                'Updated the controller firmware to the current release; fixes the lock-up after power loss.'
                            WHEN 'no_fault_found' THEN
                                'Could not reproduce; the event log shows no errors for 7 days. Briefed the security staff.'
                            WHEN 'client_side' THEN (ARRAY[
                                'The door closer on the client''s side is broken; controller and reader are fine.',
                                'The client''s UPS socket failed; the controller works on a temporary supply.',
                                'Cards were blocked in the client''s own access software; unblocked with the administrator.'])[pick]
                            WHEN 'not_resolved' THEN (ARRAY[
                                'Power supply failing under load; replacement ordered, revisit needed.',
                                'Reader board damaged by water; replacement part ordered.',
                                'Turnstile drive worn out; drive unit not in stock, revisit when delivered.'])[pick]
                            WHEN 'installed' THEN
                                'Installed and wired the controllers; bus tested end to end, units 1-6 answer.'
                            ELSE
                                'Commissioning checklist complete: every unit answers, passage and fire release tests signed by the client.'
                        END,
                        CASE p_outcome
                            WHEN 'part_replaced' THEN (ARRAY[
                                '[{"name": "Power supply 12 V 5 A", "qty": 1}]',
                                '[{"name": "Lock solenoid 12 V", "qty": 1}]',
                                '[{"name": "Reader head RH-125", "qty": 1}, {"name": "Cable gland PG9", "qty": 2}]'])[pick]::jsonb
                            WHEN 'installed' THEN
                                '[{"name": "Turnstile controller TC-300", "qty": 2}, {"name": "Reader controller RC-60", "qty": 4}, {"name": "RS-485 cable, m", "qty": 120}]'::jsonb
                            ELSE '[]'::jsonb END,
                        round(extract(epoch FROM f - ar) / 60)::int, o_engineer, f);
                INSERT INTO demo_jev (job_id, at, kind, from_status, to_status, actor_id, data)
                VALUES (o_job, f, 'outcome', 'on_site', p_status, o_engineer,
                        jsonb_build_object('outcome_id', o_outcome, 'resolution_code', p_outcome,
                                           'resolved', p_ticket IS NOT NULL
                                                       AND p_outcome <> 'not_resolved'));
                o_finished := f;
            END IF;
        END IF;
    END IF;

    -- the client's time window: the working day of the visit, or 4 hours for an emergency
    IF p_priority = 1 THEN
        ws := p_created;
        we := p_created + interval '4 hours';
    ELSE
        ws := (((coalesce(p, p_start) AT TIME ZONE st.time_zone)::date + time '09:00')
               AT TIME ZONE st.time_zone);
        we := ws + interval '9 hours';
    END IF;
    ws := least(ws, coalesce(p, p_start));
    we := greatest(we, coalesce(pe, p_start + p_dur * interval '1 minute'));

    INSERT INTO demo_j (id, ticket_id, project_id, site_id, kind, status, title, notes,
                        required_skills, priority, duration_min, window_start, window_end,
                        engineer_id, planned_start, planned_end, arrived_at, finished_at,
                        created_by, created_at, updated_at)
    VALUES (o_job, p_ticket, p_project, p_site, p_kind, p_status, p_title, '', p_skills,
            p_priority, p_dur, ws, we, o_engineer, p, pe, ar, f, disp, p_created, last_at);
END $$;

------------------------------------------------------------------------------------------
-- Ticket lifecycles. The open tickets' jobs are booked first (the engineers out right now,
-- then the coming visits), the rest oldest first, so the calendar fills without clashes.
--
-- in_progress tickets (not consultations) take one of eight paths in turn: engineer on site
-- (0), on the way (1), visit booked (2, 3, 4 with a reassignment), a first visit that needs a
-- revisit which is booked (5), a job not yet assigned (6), a cancelled visit and a new job to
-- plan (7). closed tickets take one of ten: a plain visit (0-3), waiting for the client
-- before the visit (4), a visit that needed a revisit (5), a cancelled visit and a remote fix
-- (6), a reassigned visit (7), a reopened ticket with a second visit (8), a remote fix (9).
-- Consultations are answered without a visit.

DO $seed$
DECLARE
    nw constant timestamptz := pg_temp.demo_now();
    disp uuid := (SELECT id FROM demo_user WHERE role = 'dispatcher' LIMIT 1);
    senior uuid := (SELECT id FROM demo_user WHERE role = 'senior' LIMIT 1);
    t record;
    j record;
    j2 record;
    urgent boolean;
    skills text[];
    prio integer;
    dur integer;
    what text;
    title text;
    path integer;
    a timestamptz;
    s timestamptz;
    w timestamptz;
    rs timestamptz;
    r timestamptz;
    ro timestamptz;
    cl timestamptz;
    jc timestamptz;
    resolver uuid;
    resolve_from text;
    resolve_note text;
    resolve_data jsonb;
    code text;
BEGIN
    IF disp IS NULL OR senior IS NULL THEN
        RAISE EXCEPTION 'demo seed: demo_user must list a dispatcher and a senior engineer';
    END IF;
    FOR t IN SELECT dt.*, ds.time_zone AS tz, d.location, d.model,
                    (row_number() OVER (PARTITION BY dt.status = 'in_progress'
                                                     AND dt.category <> 'consultation'
                                        ORDER BY dt.g) - 1) % 8 AS open_path
               FROM demo_t dt JOIN demo_site ds ON ds.id = dt.site_id
               LEFT JOIN demo_device d ON d.id = dt.device_id
              ORDER BY dt.status = 'in_progress' AND dt.category <> 'consultation'
                       AND (row_number() OVER (PARTITION BY dt.status = 'in_progress'
                                                            AND dt.category <> 'consultation'
                                               ORDER BY dt.g) - 1) % 8 < 2 DESC,
                       dt.status = 'in_progress' DESC, dt.created_at LOOP
        urgent := t.category = 'emergency';
        prio := CASE WHEN urgent THEN 1 ELSE 3 END;
        skills := CASE t.device_kind WHEN 'turnstile_controller' THEN ARRAY['turnstiles']
                                     ELSE ARRAY['readers'] END;
        IF t.subject LIKE '%firmware%' THEN
            skills := skills || 'firmware'::text;
        END IF;
        dur := CASE WHEN urgent THEN 60 + 30 * floor(random() * 3)::int
                    ELSE 60 + 30 * floor(random() * 5)::int END;
        what := format('%s %s at %s', t.model, CASE t.device_kind
                           WHEN 'turnstile_controller' THEN 'turnstile controller'
                           ELSE 'reader controller' END, lower(t.location));
        title := 'Visit: ' || what;
        a := NULL; s := NULL; w := NULL; rs := NULL; r := NULL; ro := NULL; cl := NULL;
        resolver := disp; resolve_note := NULL; resolve_data := '{}';
        path := t.sub % 10;
        code := pg_temp.demo_pick(ARRAY['repaired', 'repaired', 'part_replaced', 'part_replaced',
                                        'reconfigured', 'no_fault_found', 'client_side']);
        IF 'firmware' = ANY (skills) THEN
            code := 'firmware_updated';
        END IF;

        INSERT INTO demo_tev (ticket_id, at, kind, from_status, to_status, actor_id, data)
        VALUES (t.id, t.created_at, 'created', NULL, 'new', t.created_by,
                CASE WHEN t.crm_ref IS NULL THEN jsonb_build_object('source', 'phone')
                     ELSE jsonb_build_object('source', 'crm', 'crm_ref', t.crm_ref) END);
        IF t.status = 'new' THEN
            CONTINUE;
        END IF;

        -- first contact
        a := CASE t.category
                 WHEN 'emergency' THEN pg_temp.demo_after(t.created_at,
                     CASE WHEN random() < 0.85 THEN 3 ELSE 15 END,
                     CASE WHEN random() < 0.85 THEN 14 ELSE 28 END, nw)
                 WHEN 'standard' THEN pg_temp.demo_after(t.created_at, 10, 150, nw)
                 ELSE pg_temp.demo_after(t.created_at, 15, 300, nw) END;
        INSERT INTO demo_tev (ticket_id, at, kind, from_status, to_status, actor_id, note)
        VALUES (t.id, a, 'acknowledge', 'new', 'acknowledged', disp,
                pg_temp.demo_pick(ARRAY['Called the reporter back, fault confirmed',
                    'Spoke to the security post; details recorded',
                    'Client informed of the response time']));
        resolve_from := 'acknowledged';

        IF t.status = 'acknowledged' THEN
            IF t.category <> 'consultation' AND random() < 0.6 THEN
                jc := pg_temp.demo_after(a, 5, 30, nw);
                PERFORM pg_temp.demo_job(t.id, NULL, t.site_id, 'visit', 'planned', skills, title,
                                         prio, dur, jc, pg_temp.demo_visit_start(nw, t.tz, urgent),
                                         'infinity', NULL, false);
            END IF;
            UPDATE demo_t SET first_contact_at = a WHERE id = t.id;
            CONTINUE;
        END IF;

        -- consultations answered at once skip in_progress
        IF NOT (t.category = 'consultation' AND t.status IN ('resolved', 'closed')) THEN
            s := pg_temp.demo_after(a, 5, 30, nw);
            INSERT INTO demo_tev (ticket_id, at, kind, from_status, to_status, actor_id)
            VALUES (t.id, s, 'start', 'acknowledged', 'in_progress', disp);
            resolve_from := 'in_progress';
        END IF;

        IF t.status = 'in_progress' AND t.category = 'consultation' THEN
            NULL;
        ELSIF t.status = 'in_progress' THEN
            -- open work, dealt in turn so that only a few engineers are out right now
            path := t.open_path;
            IF urgent AND path = 5 THEN
                path := 2;
            END IF;
            jc := pg_temp.demo_after(s, 2, 25, nw);
            IF path = 0 THEN
                -- the engineer is there now
                PERFORM pg_temp.demo_job(t.id, NULL, t.site_id, 'visit', 'on_site', skills, title,
                    prio, dur, jc,
                    greatest(jc + (nw - jc) * 0.3,
                             nw - pg_temp.demo_rand(30, 110) * interval '1 minute'),
                    nw - interval '10 minutes', NULL, false);
            ELSIF path = 1 THEN
                PERFORM pg_temp.demo_job(t.id, NULL, t.site_id, 'visit', 'en_route', skills, title,
                    prio, dur, jc, nw + pg_temp.demo_rand(15, 50) * interval '1 minute',
                    'infinity', NULL, false);
            ELSIF path IN (2, 3, 4) THEN
                PERFORM pg_temp.demo_job(t.id, NULL, t.site_id, 'visit', 'assigned', skills, title,
                    prio, dur, jc, pg_temp.demo_visit_start(greatest(jc, nw), t.tz, urgent),
                    'infinity', NULL, path = 4);
            ELSIF path = 5 THEN
                -- first visit found a worn part; the revisit is booked
                SELECT * INTO j FROM pg_temp.demo_job(t.id, NULL, t.site_id, 'visit',
                    'needs_revisit', skills, title, prio, dur, jc,
                    pg_temp.demo_visit_start(jc, t.tz, urgent,
                                             nw - (dur + 120) * interval '1 minute'),
                    nw - (dur + 120) * interval '1 minute', 'not_resolved', false);
                PERFORM pg_temp.demo_job(t.id, NULL, t.site_id, 'visit', 'assigned', skills,
                    'Revisit: ' || what, prio, dur, pg_temp.demo_after(j.o_finished, 10, 90, nw),
                    pg_temp.demo_visit_start(nw + interval '1 day', t.tz, false), 'infinity',
                    NULL, false);
            ELSIF path = 6 THEN
                PERFORM pg_temp.demo_job(t.id, NULL, t.site_id, 'visit', 'planned', skills, title,
                    prio, dur, jc, pg_temp.demo_visit_start(nw, t.tz, false), 'infinity', NULL,
                    false);
            ELSE
                SELECT * INTO j FROM pg_temp.demo_job(t.id, NULL, t.site_id, 'visit', 'cancelled',
                    skills, title, prio, dur, jc, pg_temp.demo_visit_start(jc, t.tz, urgent),
                    'infinity', NULL, false);
                PERFORM pg_temp.demo_job(t.id, NULL, t.site_id, 'visit', 'planned', skills, title,
                    prio, dur, pg_temp.demo_after(jc, 30, 240, nw),
                    pg_temp.demo_visit_start(nw, t.tz, false), 'infinity', NULL, false);
            END IF;

        ELSIF t.status = 'waiting_client' THEN
            IF t.category <> 'consultation' AND t.sub % 5 < 3 THEN
                jc := pg_temp.demo_after(s, 5, 60, nw);
                SELECT * INTO j FROM pg_temp.demo_job(t.id, NULL, t.site_id, 'visit',
                    'needs_revisit', skills, title, prio, dur, jc,
                    pg_temp.demo_visit_start(jc, t.tz, urgent,
                                             nw - (dur + 180) * interval '1 minute'),
                    nw - (dur + 180) * interval '1 minute', 'not_resolved', false);
                w := pg_temp.demo_after(j.o_finished, 10, 120, nw);
                INSERT INTO demo_tev (ticket_id, at, kind, from_status, to_status, actor_id, note)
                VALUES (t.id, w, 'wait', 'in_progress', 'waiting_client', disp,
                        pg_temp.demo_pick(ARRAY[
                            'Waiting for the client to approve the replacement quote',
                            'Part ordered; waiting for the client to confirm access for the revisit',
                            'Waiting for the client''s electrician to restore the mains supply']));
            ELSE
                w := pg_temp.demo_after(s, 60, 1440, nw);
                INSERT INTO demo_tev (ticket_id, at, kind, from_status, to_status, actor_id, note)
                VALUES (t.id, w, 'wait', 'in_progress', 'waiting_client', disp,
                        pg_temp.demo_pick(ARRAY[
                            'Asked the client for the list of cards to add',
                            'Waiting for the client to send photos of the controller display',
                            'Client will confirm a convenient day for the visit']));
            END IF;

        ELSE
            -- resolved or closed: how it was fixed
            IF t.category = 'consultation' THEN
                r := pg_temp.demo_after(a, 30, 2880, nw);
                resolve_note := pg_temp.demo_pick(ARRAY[
                    'Answered by phone; instructions sent by e-mail',
                    'Sent the manual section and a short video',
                    'Done remotely together with the client''s administrator']);
            ELSIF t.status = 'resolved' AND t.sub % 5 = 4 OR t.status = 'closed' AND path = 9 THEN
                r := pg_temp.demo_after(s, 60, 480, nw);
                resolver := senior;
                resolve_note := pg_temp.demo_pick(ARRAY[
                    'Fixed remotely: controller restarted over the client''s VPN',
                    'Fixed remotely: access schedule corrected',
                    'Guided the security staff through resetting the reader']);
            ELSIF t.status = 'closed' AND path = 6 THEN
                jc := pg_temp.demo_after(s, 5, 40, nw);
                SELECT * INTO j FROM pg_temp.demo_job(t.id, NULL, t.site_id, 'visit', 'cancelled',
                    skills, title, prio, dur, jc, pg_temp.demo_visit_start(jc, t.tz, urgent),
                    'infinity', NULL, false);
                r := (SELECT max(at) FROM demo_jev WHERE job_id = j.o_job)
                     + pg_temp.demo_rand(5, 120) * interval '1 minute';
                resolve_note := 'Client confirmed it works again; visit cancelled';
            ELSE
                IF t.status = 'closed' AND path = 4 THEN
                    w := pg_temp.demo_after(s, 60, 240, nw);
                    rs := pg_temp.demo_after(w, 240, 2880, nw);
                    INSERT INTO demo_tev (ticket_id, at, kind, from_status, to_status, actor_id, note)
                    VALUES (t.id, w, 'wait', 'in_progress', 'waiting_client', disp,
                            'Waiting for the client to arrange access to the equipment room'),
                           (t.id, rs, 'resume', 'waiting_client', 'in_progress', disp,
                            'Client confirmed access');
                    jc := pg_temp.demo_after(rs, 5, 40, nw);
                ELSE
                    jc := pg_temp.demo_after(s, 5, 40, nw);
                END IF;
                IF t.status = 'closed' AND path = 5 THEN
                    SELECT * INTO j2 FROM pg_temp.demo_job(t.id, NULL, t.site_id, 'visit',
                        'needs_revisit', skills, title, prio, dur, jc,
                        pg_temp.demo_visit_start(jc, t.tz, urgent, nw - interval '3 days'),
                        nw - interval '3 days', 'not_resolved', false);
                    jc := pg_temp.demo_after(j2.o_finished, 10, 90, nw);
                    SELECT * INTO j FROM pg_temp.demo_job(t.id, NULL, t.site_id, 'visit', 'done',
                        skills, 'Revisit: ' || what, prio, dur, jc,
                        pg_temp.demo_visit_start(j2.o_finished + interval '2 days', t.tz, false,
                                                 nw - interval '1 day'),
                        nw - interval '1 day', 'part_replaced', false);
                ELSE
                    SELECT * INTO j FROM pg_temp.demo_job(t.id, NULL, t.site_id, 'visit', 'done',
                        skills, title, prio, dur, jc,
                        pg_temp.demo_visit_start(jc, t.tz, urgent,
                            nw - (dur * 1.3 + 60) * interval '1 minute'),
                        nw - (dur * 1.3 + 60) * interval '1 minute', code,
                        t.status = 'closed' AND path = 7);
                END IF;
                r := j.o_finished;
                resolver := j.o_engineer;
                resolve_data := jsonb_build_object('job_id', j.o_job, 'outcome_id', j.o_outcome);

                IF t.status = 'closed' AND path = 8 THEN
                    -- resolved, then the fault came back: reopened, second visit
                    INSERT INTO demo_tev (ticket_id, at, kind, from_status, to_status, actor_id,
                                          data)
                    VALUES (t.id, r, 'resolve', 'in_progress', 'resolved', resolver, resolve_data);
                    ro := pg_temp.demo_after(r, 600, 4320, nw);
                    INSERT INTO demo_tev (ticket_id, at, kind, from_status, to_status, actor_id,
                                          note)
                    VALUES (t.id, ro, 'reopen', 'resolved', 'in_progress', disp,
                            'Client reports the fault is back');
                    jc := pg_temp.demo_after(ro, 10, 60, nw);
                    SELECT * INTO j FROM pg_temp.demo_job(t.id, NULL, t.site_id, 'visit', 'done',
                        skills, 'Revisit: ' || what, prio, dur, jc,
                        pg_temp.demo_visit_start(jc, t.tz, urgent, nw - interval '1 day'),
                        nw - interval '1 day', 'part_replaced', false);
                    r := j.o_finished;
                    resolver := j.o_engineer;
                    resolve_data := jsonb_build_object('job_id', j.o_job, 'outcome_id',
                                                       j.o_outcome);
                END IF;
            END IF;

            INSERT INTO demo_tev (ticket_id, at, kind, from_status, to_status, actor_id, note,
                                  data)
            VALUES (t.id, r, 'resolve', resolve_from, 'resolved', resolver, resolve_note,
                    resolve_data);
            IF t.status = 'closed' THEN
                cl := r + least(pg_temp.demo_rand(60, 4320) * interval '1 minute',
                                (nw - r) * 0.7);
                INSERT INTO demo_tev (ticket_id, at, kind, from_status, to_status, actor_id, note)
                VALUES (t.id, cl, 'close', 'resolved', 'closed', disp,
                        pg_temp.demo_pick(ARRAY['Client confirmed the fix',
                            'No complaints for 3 days; closed', 'Closed after the client''s call']));
            END IF;
        END IF;

        UPDATE demo_t SET first_contact_at = a, resolved_at = r, closed_at = cl WHERE id = t.id;
    END LOOP;
END
$seed$;

-- A ticket within 30 days of a resolved one on the same device is a repeat of it.
UPDATE demo_t t
   SET repeat_of = (SELECT p.id FROM demo_t p
                     WHERE p.device_id = t.device_id AND p.id <> t.id
                       AND p.resolved_at < t.created_at
                       AND p.resolved_at > t.created_at - interval '30 days'
                     ORDER BY p.resolved_at DESC LIMIT 1)
 WHERE t.device_id IS NOT NULL;

UPDATE demo_t t
   SET updated_at = (SELECT max(e.at) FROM demo_tev e WHERE e.ticket_id = t.id);

------------------------------------------------------------------------------------------
-- Projects: one in every stage, each with its installation / commissioning jobs.

CREATE TEMP TABLE demo_project ON COMMIT DROP AS
SELECT v.n, gen_random_uuid() AS id, s.id AS site_id, s.client_id, v.name, v.stage,
       (pg_temp.demo_now() + v.ps * interval '1 day')::date AS planned_start,
       (pg_temp.demo_now() + v.pe * interval '1 day')::date AS planned_end,
       (pg_temp.demo_now() + v.as_ * interval '1 day')::date AS actual_start,
       (pg_temp.demo_now() + v.ae * interval '1 day')::date AS actual_end,
       pg_temp.demo_now() + v.created * interval '1 day' AS created_at
FROM (VALUES
    (1, 'survey',        'residential_complex', 0, 'Access control for the new building 4',
        20, 50, NULL, NULL, -6),
    (2, 'installation',  'business_centre',     0, 'Lobby upgrade: 4 turnstiles TC-300 and car park readers',
        -10, 15, -8, NULL, -40),
    (3, 'commissioning', 'industrial',          0, 'New vehicle and pedestrian checkpoint',
        -35, 5, -30, NULL, -60),
    (4, 'handover',      'residential_complex', 1, 'Replacement of outdated reader controllers',
        -60, -10, -55, NULL, -75),
    (5, 'done',          'cottage_village',     0, 'Access control for phase 2 of the village',
        -80, -30, -78, -40, -88),
    (6, 'cancelled',     'business_centre',     1, 'Goods entrance access control',
        -20, 10, NULL, NULL, -50)
) v(n, stage, site_kind, skip, name, ps, pe, as_, ae, created)
CROSS JOIN LATERAL (SELECT ds.id, ds.client_id FROM demo_site ds
                     WHERE ds.kind = v.site_kind AND ds.time_zone = 'Europe/Moscow'
                     ORDER BY ds.ord OFFSET 2 + v.skip LIMIT 1) s
ORDER BY v.n;

DO $projects$
DECLARE
    nw constant timestamptz := pg_temp.demo_now();
    p record;
    tz text;
    d integer;

    -- 09:00 local on the working day `days` from now (a later weekday when it falls on a
    -- weekend)
    day_start timestamptz;
BEGIN
    FOR p IN SELECT * FROM demo_project ORDER BY n LOOP
        SELECT time_zone INTO tz FROM demo_site WHERE id = p.site_id;
        FOR d IN SELECT unnest(CASE p.stage
                     WHEN 'survey' THEN ARRAY[20]
                     WHEN 'installation' THEN ARRAY[-8, 2]
                     WHEN 'commissioning' THEN ARRAY[-30, -29, 1]
                     WHEN 'handover' THEN ARRAY[-55, -12]
                     WHEN 'done' THEN ARRAY[-78, -45]
                     ELSE ARRAY[-15] END) LOOP
            day_start := ((nw AT TIME ZONE tz)::date + d + time '09:00') AT TIME ZONE tz;
            WHILE extract(isodow FROM day_start AT TIME ZONE tz) > 5 LOOP
                day_start := day_start + interval '1 day';
            END LOOP;
            IF day_start > nw - interval '12 hours' AND d < 0 THEN
                day_start := day_start - interval '3 days';
            END IF;
            PERFORM pg_temp.demo_job(NULL, p.id, p.site_id,
                CASE WHEN p.stage = 'survey' THEN 'installation'
                     WHEN p.stage IN ('installation') THEN 'installation'
                     WHEN p.stage = 'commissioning' AND d = 1 THEN 'commissioning'
                     WHEN p.stage IN ('handover', 'done') AND d IN (-12, -45) THEN 'commissioning'
                     ELSE 'installation' END,
                CASE WHEN p.stage = 'survey' THEN 'planned'
                     WHEN p.stage = 'cancelled' THEN 'cancelled'
                     WHEN d > 0 THEN 'assigned'
                     ELSE 'done' END,
                CASE WHEN p.stage = 'commissioning' AND d = 1
                       OR p.stage IN ('handover', 'done') AND d IN (-12, -45)
                     THEN ARRAY['commissioning'] ELSE ARRAY['installation'] END,
                CASE WHEN p.stage = 'commissioning' AND d = 1
                       OR p.stage IN ('handover', 'done') AND d IN (-12, -45)
                     THEN 'Commissioning: ' ELSE 'Installation: ' END || p.name,
                3,
                CASE WHEN p.stage = 'commissioning' AND d = 1
                       OR p.stage IN ('handover', 'done') AND d IN (-12, -45)
                     THEN 240 ELSE 480 END,
                least(p.created_at + interval '2 days', day_start - interval '2 days'),
                day_start,
                CASE WHEN d < 0 THEN nw - interval '10 hours' ELSE 'infinity' END,
                CASE WHEN p.stage = 'commissioning' AND d = 1
                       OR p.stage IN ('handover', 'done') AND d IN (-12, -45)
                     THEN 'commissioned' ELSE 'installed' END,
                false);
        END LOOP;
    END LOOP;
END
$projects$;

------------------------------------------------------------------------------------------
-- Everything staged goes into the real tables, in time order.

INSERT INTO ticket (id, client_id, site_id, device_id, category, status, subject, description,
                    crm_ref, reporter_name, reporter_phone, first_contact_at, resolved_at,
                    closed_at, first_contact_due, resolution_due, repeat_of, created_by,
                    created_at, updated_at)
SELECT id, client_id, site_id, device_id, category, status, subject, description, crm_ref,
       reporter_name, reporter_phone, first_contact_at, resolved_at, closed_at,
       first_contact_due, resolution_due, repeat_of, created_by, created_at, updated_at
FROM demo_t ORDER BY created_at;

INSERT INTO project (id, client_id, site_id, name, stage, planned_start, planned_end,
                     actual_start, actual_end, created_at, updated_at)
SELECT id, client_id, site_id, name, stage, planned_start, planned_end, actual_start,
       actual_end, created_at, greatest(created_at, (SELECT max(j.updated_at) FROM demo_j j
                                                     WHERE j.project_id = demo_project.id))
FROM demo_project ORDER BY n;

INSERT INTO job SELECT * FROM demo_j ORDER BY created_at, id;

INSERT INTO job_assignment (job_id, engineer_id, planned_start, planned_end, assigned_by,
                            assigned_at, override_reason, ended_at)
SELECT job_id, engineer_id, planned_start, planned_end, assigned_by, assigned_at,
       override_reason, ended_at
FROM demo_asg ORDER BY assigned_at, seq;

INSERT INTO outcome SELECT * FROM demo_o ORDER BY created_at;

INSERT INTO ticket_event (ticket_id, at, kind, from_status, to_status, actor_id, note, data)
SELECT ticket_id, at, kind, from_status, to_status, actor_id, note, data
FROM demo_tev ORDER BY at, seq;

INSERT INTO job_event (job_id, at, kind, from_status, to_status, actor_id, note, data)
SELECT job_id, at, kind, from_status, to_status, actor_id, note, data
FROM demo_jev ORDER BY at, seq;

-- Satisfaction surveys for three quarters of the closed tickets; most were answered.
INSERT INTO csat_response (ticket_id, token_hash, csat, nps, comment, responded_at, created_at,
                           updated_at)
SELECT y.id, y.token_hash,
       CASE WHEN y.answered THEN y.csat END,
       CASE WHEN y.answered THEN
           CASE y.csat WHEN 5 THEN 9 + floor(y.r_nps * 2)::int
                       WHEN 4 THEN 7 + floor(y.r_nps * 3)::int
                       WHEN 3 THEN 5 + floor(y.r_nps * 3)::int
                       ELSE floor(y.r_nps * 6)::int END END,
       CASE WHEN NOT y.answered THEN ''
            WHEN y.csat = 5 THEN (ARRAY['', 'Fast and polite, thank you!',
                'The engineer explained everything.', 'Fixed on the first visit.'])
                [1 + floor(y.r_comment * 4)::int]
            WHEN y.csat = 4 THEN (ARRAY['', 'Good, but the engineer was late.',
                'Fine, though we had to call twice.'])[1 + floor(y.r_comment * 3)::int]
            WHEN y.csat = 3 THEN 'Took longer than promised.'
            ELSE (ARRAY['Needed two visits for a simple fault.',
                'Nobody called back for hours.'])[1 + floor(y.r_comment * 2)::int] END,
       CASE WHEN y.answered THEN y.responded_at END,
       y.sent_at,
       CASE WHEN y.answered THEN y.responded_at ELSE y.sent_at END
FROM (SELECT x.*,
             CASE WHEN x.r_csat < 0.55 THEN 5 WHEN x.r_csat < 0.8 THEN 4
                  WHEN x.r_csat < 0.9 THEN 3 WHEN x.r_csat < 0.96 THEN 2 ELSE 1 END AS csat
        FROM (SELECT t.id, t.created_at,
                     sha256(convert_to(gen_random_uuid()::text || t.id::text, 'UTF8'))
                         AS token_hash,
                     random() < 0.85 AS answered, random() AS r_csat, random() AS r_nps,
                     random() AS r_comment,
                     t.closed_at + interval '5 minutes' AS sent_at,
                     pg_temp.demo_after(t.closed_at + interval '5 minutes', 30, 4320,
                                        pg_temp.demo_now()) AS responded_at
                FROM demo_t t
               WHERE t.status = 'closed' AND t.g % 4 <> 0
               ORDER BY t.created_at) x) y
ORDER BY y.created_at;

-- Firmware images the demo devices run or could be updated to.
INSERT INTO firmware_image (model, hw_rev_min, hw_rev_max, version, sha256, size_bytes,
                            signed_by, notes, uploaded_by, created_at, updated_at)
SELECT v.model, v.hw_min, v.hw_max, v.version,
       sha256(convert_to('acsfield demo image ' || v.model || ' ' || v.version, 'UTF8')),
       v.size, 'acs-release-2024', v.notes,
       (SELECT id FROM demo_user WHERE role = 'senior' LIMIT 1),
       pg_temp.demo_now() - v.age * interval '1 day', pg_temp.demo_now() - v.age * interval '1 day'
FROM (VALUES
    ('TC-200', 1, 3, '2.3.4', 196608, 'Fixes counting of double passages.', 300),
    ('TC-200', 1, 3, '2.4.0', 201216, 'Recovers from power loss without a lock-up.', 120),
    ('TC-210', 1, NULL, '2.4.2', 203776, 'Fire alarm input debounce.', 90),
    ('TC-300', 1, NULL, '3.1.0', 262144, 'Event log with 20000 records; faster bus scan.', 60),
    ('RC-50', 2, 4, '1.9.3', 98304, 'Reads cards at full range after a cold start.', 200),
    ('RC-60', 1, NULL, '2.1.1', 131072, 'Mifare DESFire EV2 support.', 45)
) v(model, hw_min, hw_max, version, size, notes, age);

------------------------------------------------------------------------------------------
-- Self-check: refuse to leave inconsistent demo data behind.

DO $check$
DECLARE
    nw constant timestamptz := pg_temp.demo_now();
    bad text;
BEGIN
    -- every ticket's event chain starts at new, links each step and ends at its status
    SELECT string_agg(DISTINCT t.number::text, ', ') INTO bad
      FROM ticket t
      JOIN LATERAL (SELECT e.*, lag(e.to_status) OVER (ORDER BY e.id) AS prev_to,
                           lag(e.at) OVER (ORDER BY e.id) AS prev_at,
                           last_value(e.to_status) OVER (ORDER BY e.id ROWS BETWEEN UNBOUNDED
                               PRECEDING AND UNBOUNDED FOLLOWING) AS final
                      FROM ticket_event e WHERE e.ticket_id = t.id) e ON TRUE
     WHERE e.from_status IS DISTINCT FROM e.prev_to OR e.at < e.prev_at OR e.at > nw
        OR e.final <> t.status OR e.at < t.created_at;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'demo seed: inconsistent ticket event history for tickets %', bad;
    END IF;

    SELECT string_agg(DISTINCT j.id::text, ', ') INTO bad
      FROM job j
      JOIN LATERAL (SELECT e.*, lag(e.to_status) OVER (ORDER BY e.id) AS prev_to,
                           lag(e.at) OVER (ORDER BY e.id) AS prev_at,
                           last_value(e.to_status) OVER (ORDER BY e.id ROWS BETWEEN UNBOUNDED
                               PRECEDING AND UNBOUNDED FOLLOWING) AS final
                      FROM job_event e WHERE e.job_id = j.id) e ON TRUE
     WHERE e.from_status IS DISTINCT FROM e.prev_to OR e.at < e.prev_at OR e.at > nw
        OR e.final <> j.status OR e.at < j.created_at;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'demo seed: inconsistent job event history for jobs %', bad;
    END IF;

    SELECT string_agg(t.number::text, ', ') INTO bad FROM ticket t
     WHERE (t.status = 'new') <> (t.first_contact_at IS NULL)
        OR (t.status IN ('resolved', 'closed')) <> (t.resolved_at IS NOT NULL)
        OR (t.status = 'closed') <> (t.closed_at IS NOT NULL)
        OR t.first_contact_at < t.created_at OR t.resolved_at < t.first_contact_at
        OR t.closed_at < t.resolved_at OR greatest(t.first_contact_at, t.resolved_at,
                                                   t.closed_at, t.updated_at) > nw;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'demo seed: inconsistent ticket times for tickets %', bad;
    END IF;

    SELECT string_agg(j.id::text, ', ') INTO bad FROM job j LEFT JOIN ticket t ON t.id = j.ticket_id
     WHERE j.created_at < t.created_at
        OR (j.status = 'planned') <> (j.planned_start IS NULL)
        OR (j.status IN ('on_site', 'done', 'needs_revisit')) <> (j.arrived_at IS NOT NULL)
        OR (j.status IN ('done', 'needs_revisit', 'cancelled')) <> (j.finished_at IS NOT NULL)
        OR j.arrived_at > nw OR j.finished_at > nw OR j.finished_at < j.arrived_at
        OR (j.status IN ('assigned', 'en_route') AND j.planned_start < j.created_at)
        OR (j.status IN ('done', 'needs_revisit'))
           <> EXISTS (SELECT 1 FROM outcome o WHERE o.job_id = j.id)
        OR (j.status <> 'planned')
           <> EXISTS (SELECT 1 FROM job_assignment a WHERE a.job_id = j.id);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'demo seed: inconsistent job times or rows for jobs %', bad;
    END IF;

    -- nobody is booked in two places at once
    SELECT string_agg(a.job_id::text || '/' || b.job_id::text, ', ') INTO bad
      FROM job_assignment a JOIN job_assignment b
        ON a.engineer_id = b.engineer_id AND a.id < b.id
       AND a.ended_at IS NULL AND b.ended_at IS NULL
       AND tstzrange(a.planned_start, a.planned_end) && tstzrange(b.planned_start, b.planned_end);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'demo seed: double-booked engineers for jobs %', bad;
    END IF;

    SELECT string_agg(s, ', ') INTO bad
      FROM unnest(ARRAY['new', 'acknowledged', 'in_progress', 'waiting_client', 'resolved',
                        'closed']) s
     WHERE NOT EXISTS (SELECT 1 FROM ticket WHERE status = s);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'demo seed: no ticket in status %', bad;
    END IF;
    SELECT string_agg(s, ', ') INTO bad
      FROM unnest(ARRAY['planned', 'assigned', 'en_route', 'on_site', 'done', 'needs_revisit',
                        'cancelled']) s
     WHERE NOT EXISTS (SELECT 1 FROM job WHERE status = s);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'demo seed: no job in status %', bad;
    END IF;
END
$check$;

-- The tickets' SLA clocks (0005_sla_clocks.sql), rebuilt from the histories made above; the
-- tickets keep the due times of their clocks. Warnings and breaches that fell due in the past
-- are recorded by fieldd's SLA timer on its first tick, as after any downtime.
INSERT INTO ticket_sla SELECT (acs_sla_replay(t.id)).* FROM ticket t;
UPDATE ticket t SET first_contact_due = s.fc_due, resolution_due = s.res_due
  FROM ticket_sla s WHERE s.ticket_id = t.id;

------------------------------------------------------------------------------------------
-- Dispatch (0011_dispatch.sql, docs/dispatch.md): the demo engineers' home bases near their
-- region's town, weekday shifts (09:00-18:00, every third engineer 08:00-17:00), the Moscow
-- centre served by everyone, one week of leave, and the planned dates of the projects'
-- stages (the project's planned period in four equal parts), so that suggestions, the day
-- plan and the at-risk list have something to work with.

UPDATE app_user u
   SET home_latitude = round((h.lat + (abs(hashtext(u.id::text)) % 100 - 50) / 2000.0)::numeric, 5),
       home_longitude = round((h.lon + (abs(hashtext(u.name)) % 100 - 50) / 1200.0)::numeric, 5),
       home_address = h.address,
       served_regions = ARRAY['centre']
  FROM demo_user d,
       (VALUES (NULL, 55.7558, 37.6173, 'Depot, Moscow'),
               ('north', 55.8887, 37.4303, 'Depot, Khimki'),
               ('east', 55.7963, 37.9382, 'Depot, Balashikha'),
               ('south', 55.4312, 37.5446, 'Depot, Podolsk'),
               ('west', 55.6780, 37.2777, 'Depot, Odintsovo')) AS h(region, lat, lon, address)
 WHERE d.id = u.id AND d.role IN ('engineer', 'senior')
   AND h.region IS NOT DISTINCT FROM
       CASE WHEN d.region IN ('north', 'east', 'south', 'west') THEN d.region END;

INSERT INTO engineer_shift (engineer_id, iso_weekday, start_time, end_time)
SELECT d.id, wd, CASE WHEN n % 3 = 0 THEN time '08:00' ELSE time '09:00' END,
       CASE WHEN n % 3 = 0 THEN time '17:00' ELSE time '18:00' END
  FROM (SELECT d.*, row_number() OVER (ORDER BY d.name) AS n FROM demo_user d
         WHERE d.role IN ('engineer', 'senior')) d
 CROSS JOIN generate_series(1, 5) wd;

INSERT INTO engineer_absence (engineer_id, kind, starts_at, ends_at, note)
SELECT d.id, 'leave',
       (date_trunc('week', pg_temp.demo_now() AT TIME ZONE 'Europe/Moscow') + interval '9 days')
           AT TIME ZONE 'Europe/Moscow',
       (date_trunc('week', pg_temp.demo_now() AT TIME ZONE 'Europe/Moscow') + interval '12 days')
           AT TIME ZONE 'Europe/Moscow',
       'annual leave'
  FROM demo_user d WHERE d.role = 'engineer' ORDER BY d.name LIMIT 1;

UPDATE project_stage ps
   SET planned_start = p.planned_start + ((p.planned_end - p.planned_start) * (ps.seq - 1)) / 4,
       planned_end = p.planned_start + ((p.planned_end - p.planned_start) * ps.seq) / 4
  FROM project p
 WHERE p.id = ps.project_id AND p.planned_start IS NOT NULL AND p.planned_end IS NOT NULL;

UPDATE job SET project_stage = CASE kind WHEN 'installation' THEN 'installation'
                                         WHEN 'commissioning' THEN 'commissioning'
                                         ELSE 'survey' END
 WHERE project_id IS NOT NULL;
