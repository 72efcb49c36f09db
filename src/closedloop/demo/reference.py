"""The demo business: a Taipei B2B software company selling to Taiwan, mainland China and APAC.

Plain data only. Quality factors multiply a lead's chance to move at each funnel step, so some
channels bring many leads that rarely close (Paid Social, Display) and others few that close
often (Referral, Events); regions, industries and company sizes shift conversion too.
"""

from __future__ import annotations

DEMO_DOMAIN = "demo.closedloop.example"
DEMO_PASSWORD = "closedloop-demo"
SITE_ORIGIN = "https://www.closedloop-demo.example"
REPORTING_CURRENCY = "TWD"

# code, zh-TW, zh-CN, en, weight among leads, quality, countries with weights
REGIONS: tuple[tuple[str, str, str, str, float, float, tuple[tuple[str, float], ...]], ...] = (
    ("北區", "北區", "北区", "North Taiwan", 0.33, 1.10, (("TW", 1.0),)),
    ("中區", "中區", "中区", "Central Taiwan", 0.14, 1.00, (("TW", 1.0),)),
    ("南區", "南區", "南区", "South Taiwan", 0.12, 0.95, (("TW", 1.0),)),
    ("華東", "華東", "华东", "East China", 0.15, 0.80, (("CN", 1.0),)),
    ("华南", "華南", "华南", "South China", 0.09, 0.55, (("CN", 1.0),)),
    (
        "APAC",
        "亞太",
        "亚太",
        "APAC",
        0.17,
        0.90,
        (("HK", 0.3), ("SG", 0.3), ("JP", 0.15), ("US", 0.15), ("MY", 0.1)),
    ),
)
COUNTRY_CURRENCY = {"TW": "TWD", "CN": "CNY", "HK": "HKD", "SG": "SGD", "MY": "SGD", "JP": "USD", "US": "USD"}
COUNTRY_TAX_RATE = {"TW": 0.05, "CN": 0.06}
# Reporting-currency value of one unit, around which the daily rates wander.
BASE_RATES = {"USD": 31.8, "CNY": 4.42, "HKD": 4.08, "SGD": 24.1}

# code, quality, deal size factor, weight
INDUSTRIES = (
    ("manufacturing", 1.35, 1.3, 0.20),
    ("technology", 1.20, 1.1, 0.17),
    ("retail", 0.85, 0.8, 0.13),
    ("finance", 1.00, 1.6, 0.09),
    ("healthcare", 0.80, 1.2, 0.07),
    ("education", 0.40, 0.6, 0.08),
    ("professional_services", 1.00, 0.9, 0.11),
    ("logistics", 1.10, 1.0, 0.08),
    ("food_beverage", 0.70, 0.7, 0.07),
)
# range, quality, deal size factor, weight, employees low-high
COMPANY_SIZES = (
    ("1-10", 0.40, 0.3, 0.22, (2, 10)),
    ("11-50", 0.85, 0.6, 0.30, (11, 50)),
    ("51-200", 1.20, 1.0, 0.25, (51, 200)),
    ("201-1000", 1.30, 1.8, 0.15, (201, 1000)),
    ("1001+", 1.00, 3.0, 0.08, (1001, 20000)),
)

# channel, lead weight, quality, anonymous touches before identification (mean)
CHANNELS = (
    ("Paid Search", 0.19, 1.00, 2.0),
    ("Organic Search", 0.13, 1.10, 2.5),
    ("Paid Social", 0.21, 0.35, 1.2),
    ("Organic Social", 0.05, 0.60, 1.8),
    ("Email", 0.06, 0.90, 1.5),
    ("Display", 0.09, 0.30, 1.0),
    ("Referral", 0.05, 2.20, 2.2),
    ("Messaging", 0.07, 0.90, 1.0),
    ("Events", 0.06, 1.80, 0.8),
    ("Direct", 0.09, 1.20, 2.5),
)

# name, channel, utm_source, utm_medium, utm_campaign, contents, quality, cost per lead (TWD), region focus
CAMPAIGNS = (
    (
        "Google 搜尋 - 品牌字",
        "Paid Search",
        "google",
        "cpc",
        "gs_brand_tw",
        ("brand_exact", "brand_phrase"),
        1.5,
        450,
        "TW",
    ),
    (
        "Google 搜尋 - CRM 通用字",
        "Paid Search",
        "google",
        "cpc",
        "gs_generic_crm_tw",
        ("crm_software", "lead_tracking"),
        0.9,
        1200,
        "TW",
    ),
    (
        "Google 搜尋 - 競品字",
        "Paid Search",
        "google",
        "cpc",
        "gs_competitor_tw",
        ("vs_hubspot", "vs_salesforce"),
        0.7,
        1600,
        "TW",
    ),
    (
        "Google Search - APAC English",
        "Paid Search",
        "google",
        "cpc",
        "gs_apac_en",
        ("crm_apac", "sales_pipeline"),
        1.0,
        1900,
        "APAC",
    ),
    ("Microsoft Ads - SG/US", "Paid Search", "bing", "cpc", "bing_apac_en", ("crm_b2b",), 0.8, 1400, "APAC"),
    ("百度推广 - 品牌词", "Paid Search", "baidu", "cpc", "baidu_brand_cn", ("brand",), 1.1, 800, "CN"),
    (
        "百度推广 - 通用词",
        "Paid Search",
        "baidu",
        "cpc",
        "baidu_generic_cn",
        ("crm_xitong", "xiaoshou_guanli"),
        0.6,
        900,
        "CN",
    ),
    (
        "Facebook 名單型廣告 - 免費試用",
        "Paid Social",
        "facebook",
        "paid_social",
        "fb_leadgen_trial",
        ("video_15s", "carousel", "static_offer"),
        0.35,
        280,
        "TW",
    ),
    (
        "Facebook 再行銷",
        "Paid Social",
        "facebook",
        "paid_social",
        "fb_retargeting",
        ("case_study", "testimonial"),
        0.6,
        500,
        "TW",
    ),
    (
        "Instagram 限時動態",
        "Paid Social",
        "instagram",
        "paid_social",
        "ig_stories_awareness",
        ("story_a", "story_b"),
        0.3,
        350,
        "TW",
    ),
    (
        "LinkedIn Sponsored Content - 決策者",
        "Paid Social",
        "linkedin",
        "paid_social",
        "li_decision_makers",
        ("whitepaper", "roi_calculator"),
        1.4,
        2500,
        "APAC",
    ),
    (
        "微信朋友圈广告",
        "Paid Social",
        "wechat",
        "paid_social",
        "wx_moments_cn",
        ("h5_trial", "image_ad"),
        0.5,
        400,
        "CN",
    ),
    (
        "Dcard 贊助文章",
        "Paid Social",
        "dcard",
        "paid_social",
        "dcard_sponsored",
        ("article",),
        0.2,
        220,
        "TW",
    ),
    (
        "Google 多媒體廣告",
        "Display",
        "google",
        "display",
        "gdn_prospecting",
        ("banner_300x250", "banner_728x90"),
        0.3,
        600,
        "TW",
    ),
    (
        "Yahoo 原生廣告",
        "Display",
        "yahoo",
        "display",
        "yahoo_native_tw",
        ("native_a", "native_b"),
        0.35,
        550,
        "TW",
    ),
    ("Criteo 再行銷", "Display", "criteo", "display", "criteo_retargeting", ("dynamic",), 0.5, 700, None),
    (
        "月刊電子報",
        "Email",
        "newsletter",
        "email",
        "newsletter_monthly",
        ("hero_cta", "footer_link"),
        0.9,
        0,
        None,
    ),
    (
        "培育信件 - 新名單",
        "Email",
        "nurture",
        "email",
        "nurture_new_leads",
        ("day1_welcome", "day7_case", "day14_demo"),
        1.0,
        0,
        None,
    ),
    ("產品發表 EDM", "Email", "edm", "email", "launch_edm", ("launch_a", "launch_b"), 0.9, 0, None),
    ("舊客戶加購 EDM", "Email", "edm", "email", "upsell_existing", ("upsell",), 1.2, 0, None),
    (
        "LINE 官方帳號 - 推播",
        "Messaging",
        "line",
        "messaging",
        "line_oa_broadcast",
        ("rich_menu", "broadcast"),
        0.9,
        150,
        "TW",
    ),
    (
        "LINE 官方帳號 - 預約展示",
        "Messaging",
        "line",
        "messaging",
        "line_chatbot_demo",
        ("chatbot",),
        1.2,
        300,
        "TW",
    ),
    (
        "微信公众号 - 推文",
        "Messaging",
        "wechat",
        "messaging",
        "wx_official_account",
        ("article", "menu"),
        0.8,
        200,
        "CN",
    ),
    (
        "線上研討會：行銷與業務對齊",
        "Events",
        "webinar",
        "webinar",
        "webinar_alignment",
        ("registration",),
        1.7,
        900,
        "TW",
    ),
    (
        "Webinar: Attribution 101",
        "Events",
        "webinar",
        "webinar",
        "webinar_attribution_en",
        ("registration",),
        1.5,
        1100,
        "APAC",
    ),
    (
        "台北國際電腦展 Computex",
        "Events",
        "computex",
        "event",
        "expo_computex",
        ("booth_scan",),
        1.6,
        2600,
        "TW",
    ),
    ("數位行銷年會 DMS", "Events", "dms", "event", "dms_summit", ("booth_scan", "speech"), 1.9, 2200, "TW"),
    (
        "上海 CRM 峰会",
        "Events",
        "crm_summit_sh",
        "event",
        "shanghai_crm_summit",
        ("booth_scan",),
        1.4,
        2000,
        "CN",
    ),
    (
        "SaaS Summit Singapore",
        "Events",
        "saas_summit",
        "event",
        "saas_summit_sg",
        ("booth_scan",),
        1.6,
        3000,
        "APAC",
    ),
    (
        "合作夥伴推薦計畫",
        "Referral",
        "partner",
        "referral",
        "partner_program",
        ("partner_page",),
        2.2,
        0,
        None,
    ),
    (
        "客戶推薦計畫",
        "Referral",
        "customer",
        "referral",
        "customer_referral",
        ("referral_link",),
        2.6,
        0,
        None,
    ),
    ("Facebook 粉絲專頁", "Organic Social", "facebook", "social", "fb_page_posts", ("post",), 0.6, 0, None),
    ("LinkedIn 公司頁", "Organic Social", "linkedin", "social", "li_company_posts", ("post",), 0.9, 0, None),
    ("YouTube 教學影片", "Organic Social", "youtube", "social", "yt_tutorials", ("video",), 0.7, 0, None),
)
ORGANIC_SEARCH_SOURCES = (("google", 0.7), ("bing", 0.08), ("yahoo", 0.1), ("baidu", 0.12))
CLICK_ID_BY_SOURCE = {
    "google": "gclid",
    "bing": "msclkid",
    "facebook": "fbclid",
    "instagram": "fbclid",
    "linkedin": "li_fat_id",
    "line": "line_click_id",
}
REFERRERS = {
    "google": "https://www.google.com/",
    "bing": "https://www.bing.com/",
    "yahoo": "https://tw.search.yahoo.com/",
    "baidu": "https://www.baidu.com/",
    "facebook": "https://www.facebook.com/",
    "instagram": "https://www.instagram.com/",
    "linkedin": "https://www.linkedin.com/",
    "youtube": "https://www.youtube.com/",
    "dcard": "https://www.dcard.tw/",
    "partner": "https://partner.example-si.com.tw/solutions",
    "customer": "https://www.example-customer.com.tw/",
}
LANDING_PAGES = (
    "/zh-tw/",
    "/zh-tw/pricing",
    "/zh-tw/features/attribution",
    "/zh-tw/features/sla",
    "/zh-tw/demo",
    "/zh-tw/blog/mql-vs-sql",
    "/zh-tw/blog/b2b-funnel",
    "/zh-cn/",
    "/zh-cn/pricing",
    "/en/",
    "/en/pricing",
    "/en/case-studies",
)

# team name, kind, region, calendar key, time zone
TEAMS = (
    ("行銷部 Marketing", "marketing", None, "TW", "Asia/Taipei"),
    ("業務北區 Sales North", "sales", "北區", "TW", "Asia/Taipei"),
    ("業務中區 Sales Central", "sales", "中區", "TW", "Asia/Taipei"),
    ("業務南區 Sales South", "sales", "南區", "TW", "Asia/Taipei"),
    ("华东销售 Sales East China", "sales", "華東", "CN", "Asia/Shanghai"),
    ("华南销售 Sales South China", "sales", "华南", "CN", "Asia/Shanghai"),
    ("APAC Sales", "sales", "APAC", "SG", "Asia/Singapore"),
    ("管理部 Management", "management", None, "TW", "Asia/Taipei"),
)
# local part, name, role, team index, language, time zone
STAFF = (
    ("admin", "系統管理員 Admin", "admin", 7, "zh-TW", "Asia/Taipei"),
    # The demo manager leads Sales North (managers see their own teams), so its pages have data.
    ("manager", "周文華 Wenhua Chou", "manager", 1, "zh-TW", "Asia/Taipei"),
    ("marketing", "蔡佩珊 Peishan Tsai", "marketing", 0, "zh-TW", "Asia/Taipei"),
    ("marketing2", "Grace Ho", "marketing", 0, "en", "Asia/Taipei"),
    ("viewer", "財務長 CFO Viewer", "viewer", 7, "zh-TW", "Asia/Taipei"),
)
# local part, name, team index, median response (business hours), win factor, accept factor, language
REPS = (
    ("sales01", "陳怡君 Yvonne Chen", 1, 0.4, 1.35, 1.05, "zh-TW"),
    ("sales02", "林志豪 Howard Lin", 1, 2.5, 1.00, 1.00, "zh-TW"),
    ("sales03", "黃建宏 Kevin Huang", 1, 7.0, 0.75, 0.90, "zh-TW"),
    ("sales04", "張雅婷 Tina Chang", 2, 1.0, 1.15, 1.00, "zh-TW"),
    ("sales05", "李俊傑 Jay Lee", 2, 4.5, 0.85, 0.95, "zh-TW"),
    ("sales06", "王淑芬 Sophie Wang", 3, 1.5, 1.05, 1.10, "zh-TW"),
    ("sales07", "吳承恩 Ethan Wu", 3, 9.0, 0.70, 0.85, "zh-TW"),
    ("sales08", "刘伟 Liu Wei", 4, 2.0, 1.00, 1.00, "zh-CN"),
    ("sales09", "张静 Zhang Jing", 4, 0.8, 1.25, 1.05, "zh-CN"),
    ("sales10", "陈志强 Chen Zhiqiang", 5, 5.5, 0.80, 0.90, "zh-CN"),
    ("sales11", "Priya Nair", 6, 1.2, 1.10, 1.00, "en"),
    ("sales12", "Daniel Tan", 6, 3.0, 0.95, 1.00, "en"),
)

# name, billing (monthly | annual | once), list price TWD per year (or once), margin
PRODUCTS = (
    ("closedloop Starter", "monthly", 36_000, "0.8500"),
    ("closedloop Professional", "annual", 180_000, "0.8000"),
    ("closedloop Enterprise", "annual", 720_000, "0.7500"),
    ("導入顧問服務 Implementation", "once", 150_000, "0.3500"),
    ("Premium Support", "annual", 96_000, "0.6000"),
)

# Hand-off rejections: reason, weight in a low-quality channel, weight in a good one, goes to
SPAM_LIKE = ("spam", "student_or_job_seeker", "duplicate", "bad_contact_data", "competitor")
REJECTION_MIX = (
    ("wrong_fit", 0.18, 0.30, "disqualified"),
    ("no_budget", 0.10, 0.25, "recycled"),
    ("no_authority", 0.06, 0.15, "recycled"),
    ("bad_contact_data", 0.12, 0.04, "disqualified"),
    ("duplicate", 0.05, 0.04, "disqualified"),
    ("student_or_job_seeker", 0.16, 0.02, "disqualified"),
    ("competitor", 0.03, 0.03, "disqualified"),
    ("spam", 0.18, 0.01, "disqualified"),
    ("no_response", 0.08, 0.10, "recycled"),
    ("other", 0.04, 0.06, "recycled"),
)
OTHER_REASON_TEXTS = (
    "預算明年才編列",
    "已與其他供應商簽約兩年",
    "Only needs a one-off report",
    "公司正在整併，暫緩採購",
)
LOST_REASONS = (
    ("competitor", 0.35),
    ("no_budget", 0.25),
    ("no_response", 0.15),
    ("no_authority", 0.10),
    ("other", 0.15),
)
LOST_TEXTS = ("價格高於預期", "決策延到下一季", "Missing an ERP connector", "选择了本地供应商")
FEEDBACK_COMMENTS = (
    "報表很清楚，業務和行銷終於看同一個數字",
    "導入時間比預期長",
    "Support answers fast",
    "希望有更多中文教學",
    "价格偏高但值得",
)

FREE_MAIL = {
    "TW": ("gmail.com", "yahoo.com.tw"),
    "CN": ("qq.com", "163.com"),
    "APAC": ("gmail.com", "outlook.com"),
}
