"""The money screens of the staff app (issue 19) in a real browser, on both
databases: the payments panel of an appointment (deposit, payment with a
tip, discount) and a cancelled appointment that offers only its deposit's
refund or retention.  The server, browsers and checks are test_web.py's."""
import pytest

from test_web import FACIAL, PRO1_ID, RECEP, browsers_clean, site, weekday_ahead  # noqa: F401


def book(site, token, weeks, hour):
    st, _, a = site.api("POST", "/api/v1/appointments", {
        "client_id": 2, "service_id": FACIAL, "professional_id": PRO1_ID, "branch_id": 1,
        "start": f"{weekday_ahead(weeks, 2)}T{hour:02d}:00:00-06:00"}, token=token)
    assert st == 201, a
    return a


def test_deposit_payment_with_tip_and_discount(site):
    recep = site.token(*RECEP)
    admin = site.token("admin@citaplanner.com", "admin123")
    a = book(site, recep, 9, 10)  # Facial: 850.00
    b = site.browser()
    b.login("admin@citaplanner.com", "admin123")
    b.go(f"#/appt/{a['id']}")
    # A 10 % discount, then a deposit of 100.00, then the rest with a tip.
    b.wait("#discount-form")
    b.select("#discount-form select[name=kind]", "PERCENT")
    b.fill("#discount-form input[name=value]", "10")
    b.fill("#discount-form input[name=reason]", "cliente frecuente")
    b.click("#give-discount")
    b.wait_text("#money-discount", "85")
    b.select("#pay-kind", "DEPOSIT")
    b.fill("#payment-form input[name=amount_cents]", "100")
    b.click("#pay")
    b.wait_text("#payments", "Anticipo")
    b.fill("#payment-form input[name=tip_cents]", "50")
    b.select("#payment-form select[name=method]", "DEBIT_CARD")
    b.click("#pay")
    b.wait_text("#money-tips", "50")
    assert "0.00" in b.find("#money-balance").text
    st, _, m = site.api("GET", f"/api/v1/appointments/{a['id']}/money", token=admin)
    assert st == 200
    assert (m["discount"]["amount_cents"], m["paid_cents"], m["tips_cents"], m["balance_cents"]) \
        == (8500, 76500, 5000, 0)
    assert [d["amount_cents"] for d in m["deposits"]] == [10000]


def test_cancelled_offers_only_the_deposit(site):
    recep = site.token(*RECEP)
    a = book(site, recep, 9, 12)
    st, _, d = site.api("POST", "/api/v1/payments", {"appointment_id": a["id"], "amount_cents": 20000,
                                                     "method": "CASH", "kind": "DEPOSIT"}, token=recep)
    assert st == 201, d
    st, _, _ = site.api("POST", f"/api/v1/appointments/{a['id']}/cancel",
                        {"reason": "la clienta avisó tarde"}, token=recep)
    assert st == 200
    b = site.browser()
    b.login(*RECEP)
    b.go(f"#/appt/{a['id']}")
    b.wait("#money-closed")
    assert b.find_all("#payment-form") == [] and b.find_all("#pay") == []
    assert b.find_all("#discount-form") == []
    b.fill(".retain-form input[name=reason]", "cancelación tardía")
    b.click(f"#retain-{d['id']}")
    b.wait_until(lambda: b.find_all(f"#retain-{d['id']}") == [])
    st, _, m = site.api("GET", f"/api/v1/appointments/{a['id']}/money", token=recep)
    assert m["deposits"][0]["retained_cents"] == 20000 and m["actions"] == []


def test_reports_page_chart_table_and_csv(site):
    b = site.browser()
    b.login("manager@citaplanner.com", "manager123")
    b.go("#/reports")
    b.wait("#rep-table")
    b.select("#rep-name", "by_method")
    import datetime as dt
    b.set_value("#rep-from", str(dt.date.today() - dt.timedelta(days=900)))
    b.click("#rep-bar button[type=submit]")
    b.wait_text("#rep-table", "Efectivo")
    assert b.find_all("#rep-body svg.chart rect.bar")
    href = b.find("#rep-csv").get_attribute("href")
    assert "/api/v1/reports/by_method?" in href and "format=csv" in href
    manager = site.token("manager@citaplanner.com", "manager123")
    st, h, body = site.api("GET", href.split(site.base, 1)[1], token=manager)
    assert st == 200 and body.startswith("\ufeffmethod,net_MXN")
    assert b.unlabelled() == []
    # In English.
    b.driver.execute_script("localStorage.setItem('citaplanner.lang', 'en')")
    b.go("#/reports")
    b.driver.refresh()
    b.wait_text("#rep-table", "Period")
    assert "Reports" in b.find("#nav").text and "Cash close" in b.find("#nav").text
    b.driver.execute_script("localStorage.setItem('citaplanner.lang', 'es')")


def test_professional_sees_only_its_commissions(site):
    b = site.browser()
    b.login("pro1@citaplanner.com", "prof123")
    b.go("#/commissions")
    b.wait("#com-table")
    b.wait("#com-table tbody tr")
    pros = {r.get_attribute("data-pro") for r in b.find_all("#com-table tbody tr[data-pro]")}
    assert pros <= {str(PRO1_ID)}
    assert b.find_all(".mark-paid") == []
    assert "Reportes" not in b.find("#nav").text


def test_sales_page_product_receipt_and_split_ticket(site):
    b = site.browser()
    b.login("manager@citaplanner.com", "manager123")
    b.go("#/sales")
    b.wait("#product-form")
    b.fill("#product-form input[name=sku]", "WEB-1")
    b.fill("#product-form input[name=name]", "Shampoo web")
    b.fill("#product-form input[name=price_cents]", "120.50")
    b.click("#product-save")
    b.wait("#products-table tr[data-sku='WEB-1']")
    b.select("#receipt-form select[name=product_id]",
             b.find("#receipt-form select[name=product_id] option").get_attribute("value"))
    b.fill("#receipt-form input[name=quantity]", "5")
    b.click("#receipt-save")
    b.wait_text("#products-table tr[data-sku='WEB-1'] td.qty", "5")
    # A ticket of 2 units paid half in cash, half by card.
    b.fill("#ticket-qty", "2")
    b.click("#ticket-add")
    b.wait_text("#ticket-total", "241")
    b.fill("#ticket-amount-0", "100")
    b.select("#ticket-method-1", "DEBIT_CARD")
    b.fill("#ticket-amount-1", "141")
    b.click("#ticket-submit")
    b.wait_text("#products-table tr[data-sku='WEB-1'] td.qty", "3")
    assert site.db.count("sales", "WHERE total_cents = 24100") == 1
    assert b.unlabelled() == []


def test_ticket_of_a_service_then_the_list_and_its_detail(site):
    """The ticket takes an appointment of the day for its balance; the sale
    then shows in the list of sales (time, items, total, methods, who) and
    opens its detail."""
    recep = site.token(*RECEP)
    a = book(site, recep, 10, 11)  # Facial: 850.00
    st, _, d = site.api("POST", "/api/v1/payments", {"appointment_id": a["id"], "amount_cents": 20000,
                                                     "method": "CASH", "kind": "DEPOSIT"}, token=recep)
    assert st == 201, d
    b = site.browser()
    b.login(*RECEP)
    b.go("#/sales")
    b.wait("#ticket-form")
    b.set_value("#ticket-day", weekday_ahead(10, 2))
    b.wait(f"#ticket-appt option[value='{a['id']}']")
    assert "Facial" in b.find(f"#ticket-appt option[value='{a['id']}']").text
    b.select("#ticket-appt", a["id"])
    b.click("#ticket-add-service")
    b.wait_text("#ticket-lines li[data-kind=SERVICE]", "650")  # its balance after the deposit
    b.click("#ticket-add-service")  # the same appointment is not taken twice
    assert len(b.find_all("#ticket-lines li")) == 1
    b.fill("#ticket-amount-0", "600")
    b.select("#ticket-method-1", "CREDIT_CARD")
    b.fill("#ticket-amount-1", "50")
    b.click("#ticket-submit")
    b.wait_text("#sales-table", "Facial")
    st, _, m = site.api("GET", f"/api/v1/appointments/{a['id']}/money", token=recep)
    assert st == 200 and m["balance_cents"] == 0 and m["paid_cents"] == 85000
    sale = site.db.scalar(f"SELECT sale_id FROM payments WHERE appointment_id = {a['id']} "
                          "AND sale_id IS NOT NULL LIMIT 1")
    row = f"#sales-table tr[data-sale='{sale}']"
    b.wait(row)
    assert "650" in b.find(f"{row} td.sale-total").text
    methods = b.find(f"{row} td.sale-methods").text
    assert "Efectivo" in methods and "600" in methods and "Tarjeta de crédito" in methods
    who = site.db.scalar(f"SELECT first_name || ' ' || last_name FROM users WHERE email = '{RECEP[0]}'")
    assert who.strip() and who in b.find(row).text
    # A paid appointment is refused on the ticket with the error's text.
    b.set_value("#ticket-day", weekday_ahead(10, 2))
    b.wait(f"#ticket-appt option[value='{a['id']}']")
    b.select("#ticket-appt", a["id"])
    b.click("#ticket-add-service")
    b.wait_text("#ticket-form .form-error", "ya está pagada")
    # The detail.
    b.click(f"{row} .sale-open")
    b.wait_text("#sale-lines", "Facial")
    assert "650" in b.find("#sale-lines").text and "Tarjeta de crédito" in b.find("#sale-payments").text
    assert b.unlabelled() == []


def test_money_settings_admin_edits_the_others_read(site):
    admin = site.token("admin@citaplanner.com", "admin123")
    b = site.browser()
    b.login("admin@citaplanner.com", "admin123")
    b.go("#/sales")
    b.wait("#settings-form")
    b.fill("#limit-RECEPTIONIST", "15")
    b.click("#allow-negative")
    b.click("#settings-save")
    b.wait_until(lambda: site.api("GET", "/api/v1/money-settings", token=admin)[2]
                 == {"allow_negative_stock": True})
    st, _, lim = site.api("GET", "/api/v1/discount-limits", token=admin)
    assert {"role": "RECEPTIONIST", "max_pct": 15} in lim["items"]
    assert b.unlabelled() == []
    try:
        # A manager and a receptionist read it, without a form.
        for who in (("manager@citaplanner.com", "manager123"), RECEP):
            r = site.browser()
            r.login(*who)
            r.go("#/sales")
            r.wait("#settings-facts")
            assert r.find_all("#settings-form") == []
            assert r.find("#settings-facts dd[data-role=RECEPTIONIST]").text == "15 %"
            assert r.find("#settings-negative").text == "Sí"
        # In English.
        b.driver.execute_script("localStorage.setItem('citaplanner.lang', 'en')")
        b.driver.refresh()
        b.wait_text("#money-settings", "Allow negative stock")
        assert "Recorded sales" in b.find("main").text
    finally:
        b.driver.execute_script("localStorage.setItem('citaplanner.lang', 'es')")
        assert site.api("PUT", "/api/v1/money-settings", {"allow_negative_stock": False},
                        token=admin)[0] == 200


def test_cash_close_page_and_print(site):
    """Last in the module: it closes the receptionist's register for today."""
    b = site.browser()
    b.login(*RECEP)
    b.go("#/cash")
    b.wait("#cash-form")
    b.fill("#cash-form input[name=opening_float_cents]", "500")
    b.fill("#cash-form input[name=counted_cash_cents]", "400")
    b.fill("#cash-form textarea[name=note]", "prueba")
    b.click("#cash-submit")
    b.wait("#cash-closed")
    recep = site.token(*RECEP)
    st, _, d = site.api("GET", "/api/v1/cash-close?branch_id=1&date="
                        + b.find("#cash-date").get_attribute("value"), token=recep)
    c = d["close"]
    assert st == 200 and c["opening_float_cents"] == 50000 and c["counted_cash_cents"] == 40000
    assert c["difference_cents"] == 40000 - c["expected_cash_cents"]
    assert b.find("#cash-print").is_displayed()
    b.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not b.find("#top").is_displayed() and not b.find("#cash-print").is_displayed()
    assert b.find("#cash-closed").is_displayed() and b.find("#cash-methods").is_displayed()
    b.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
