"""Demo progress data: five years of quarterly reporting as if the units had used the portal.

``build_demo_progress`` fills every active unit's forms from the 2021 baseline to 2025 Q4, as
the portal would look in November 2026 while the final evaluation is under way: most forms
approved (some late, some returned once first), a few returned or waiting for review in the
latest periods, a few never submitted. Whatever the date the demo is built on, every role has
work (``FEATURED_LAST``, ``extend_featured``): a returned form for jyt-reporter whose deadline
the office extended into the future, forms waiting for the office, a 西宁市 draft. Narratives are
plausible Chinese per measure, figures follow
each target's rule (increments summing to 70–120 % of the target, levels rising towards it,
coverage rising to its total, milestones done from some quarter on), and local governments give
their region's funding and population.

Speed: the service functions write row by row (tens of thousands of small transactions for five
years of data), so this module writes the same rows in bulk: submissions, lines, figures, region
figures, workflow events, notifications and django-simple-history records, with every field set
as the services would have set it (status, version, revision, first_submitted_at, submitted_*,
reviewed_*, review_comment agree with the events). History mirrors what the services leave: a
"+" record when a row is created (no user: ``ensure_submission`` saves lines without one), a "~"
record with the editing user whenever the form's content changes, and for the submission itself
a "~" record per workflow transition.

Deterministic: each unit draws from ``random.Random(f"{seed}:{unit code}")`` and each target's
pace from ``random.Random(f"{seed}:target:{code}")``, so a unit's data does not depend on which
other units are built in the same run (``--units`` subsets and ``--scale`` copies stay stable).

Scale (benchmarks): ``ensure_synthetic_units(scale)`` adds ``SYNTHETIC_PER_COPY × (scale − 1)``
synthetic county governments, so county-level units = 44 + 101 × (scale − 1): 145 at 2×,
2,973 (≈ 3,000) at 30×. Copy *k* repeats each real county as "城东区（模拟k）" (code
``xk-chengdong``) and, to reach 101 per copy, the first counties again as "城东区（模拟k-2）"
(``xk-chengdong-2``) and so on.
"""

import datetime
import random
import re
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.names import display_name
from targets.choices import Bound, Combine, MeasureKind, TimeScope
from targets.models import RegionBaseline, RegionFigure, Target, TargetFigure
from targets.submission.services import JUMP_RATIO, WHOLE_NUMBER_KINDS
from tasks.choices import EventAction, MeasureStatus, NotificationKind, PeriodState, SubmissionStatus
from tasks.models import (
    Assignment,
    Evidence,
    MeasureLine,
    Notification,
    Period,
    Submission,
    SubmissionEvent,
    WorkPoint,
)
from tasks.selectors import current_plan
from tasks.services import assigned_measures, generate_periods
from units.choices import RegionLevel, Role, UnitKind
from units.models import Membership, Region, Unit

DEFAULT_SEED = 2021
# The demo's "now": the final evaluation of the 2021-2025 plan is under way. No timestamp is later.
DEMO_NOW = datetime.datetime(2026, 11, 20, 17, 30)
SYNTHETIC_PER_COPY = 101  # county units per extra copy: 44 + 101 × 29 = 2,973 at --scale 30
SYNTHETIC_CODE = re.compile(r"^x\d+-")
BATCH = 2000
CHUNK_UNITS = 150  # units built and written per transaction (bounds memory at --scale 30)


def is_synthetic(code: str) -> bool:
    """A benchmark unit made by ``ensure_synthetic_units`` (they get no accounts)."""
    return bool(SYNTHETIC_CODE.match(code))


# Resident population (万人), rounded from the 2020 census and later yearbooks; demo only.
POPULATION = {
    "630100": 247.8, "630102": 39.5, "630103": 33.4, "630104": 27.8, "630105": 37.1,
    "630106": 46.8, "630121": 42.1, "630123": 13.2,
    "630200": 135.8, "630202": 25.2, "630203": 11.6, "630222": 33.2, "630223": 33.9,
    "630224": 20.3, "630225": 12.7,
    "632200": 26.5, "632221": 14.8, "632222": 4.9, "632223": 3.6, "632224": 4.2,
    "632300": 27.6, "632301": 10.6, "632322": 5.9, "632323": 7.6, "632324": 3.9,
    "632500": 44.7, "632521": 13.5, "632522": 6.5, "632523": 10.3, "632524": 7.5, "632525": 7.6,
    "632600": 21.6, "632621": 6.4, "632622": 3.0, "632623": 3.9, "632624": 3.5, "632625": 2.9,
    "632626": 1.5,
    "632700": 42.6, "632701": 11.8, "632722": 7.2, "632723": 6.6, "632724": 3.7, "632725": 10.2,
    "632726": 3.4,
    "632800": 46.8, "632801": 24.7, "632802": 8.8, "632803": 2.6, "632821": 3.4, "632822": 8.2,
    "632823": 2.1,
}  # fmt: skip
COUNTY_FLOOR = 25  # 万元: 县区年科普经费不低于25万元 (T33)

# Targets whose figures follow a known path: level (start, end); coverage (total, start share,
# end share); milestone (year, quarter) from which it is done. Others follow the generic rule.
LEVEL_PATHS = {
    "T15": (16, 23),  # industries in the annual skills contest (per year)
    "T16": (82, 118),  # trades in the annual skills contest (per year)
    "T20": (45, 72),  # 医养结合 care homes, %
    "T21": (61, 78),  # elderly health management rate, % (lagging a little)
    "T29": (1.95, 2.36),  # provincial per-capita funding, 元/人 (per year)
}
COVERAGE_PATHS = {
    "T22": (3600, 0.32, 1.0),  # 应急管理干部: a plausible headcount behind the 100 % target
    "T25": (8, 0.625, 1.0),  # prefectures with a science museum
    "T26": (44, 0.40, 1.0),  # counties visited by the mobile science museum
    "T28": (9, 0.34, 0.9),  # TV stations with a daily science programme
    "T34": (4620, 0.55, 0.97),  # villages and communities (4,146 + ~470)
}
MILESTONE_DONE = {"T17": (2023, 3), "T24": (2024, 2)}
# T11 (teachers trained over five years) is the running total of T12 (teachers trained each
# year): the same training, so the same quarterly figures.
LINKED = {"T11": "T12"}

YEAR_PACE = {2021: 0.5, 2022: 0.8, 2023: 1.0, 2024: 1.1, 2025: 1.1}
SEASON = {1: 0.6, 2: 1.1, 3: 1.25, 4: 1.05}  # winter and the Spring Festival slow Q1 down

# Outcome weights of a (unit, period): older periods, the last closed one, the open one.
OLD = {
    "approved": 77,
    "returned_approved": 7,
    "reopened_approved": 1,
    "returned": 4,
    "draft": 7,
    "missing": 4,
}
SECOND_LAST = {
    "approved": 74,
    "returned_approved": 5,
    "reopened": 4,
    "reopened_submitted": 3,
    "draft": 6,
    "missing": 8,
}
LAST = {"approved": 42, "returned_approved": 4, "submitted": 14, "returned": 9, "draft": 15, "missing": 16}
LOCAL_EXTRA_MISSING = 2  # county and prefecture governments miss a few more
# Work waiting in every role whatever the date (the accounts the README names): 省教育厅's latest
# form is back from the office, 省科技厅's waits for review, 西宁市 has a draft; the office has
# extended the first and last of them, to 30 days after the later of today and the demo's "now".
FEATURED_LAST = {"jyt": "returned", "kjt": "submitted", "xiningshi": "draft"}
FEATURED_EXTENDED = ("jyt", "xiningshi")
EXTENSION_DAYS = 30
EXTENSION_REASON = "总结评估期间补充完善全年数据，经省纲要办同意延期报送。"
# Outcomes in which the form was approved before the next quarter's form was submitted: its
# figures are the "previous approved" ones the submit check compares with.
WAS_APPROVED = {"approved", "returned_approved", "reopened_approved", "reopened", "reopened_submitted"}
LATE_SHARE = 0.10
LATE_SHARE_LOCAL = 0.16
LATE_SHARE_BASELINE = 0.25  # the first round, while units learned the portal

ACTIVITIES = {
    "A1.1": [
        "组织开展科学家进校园活动{n}场，覆盖中小学生约{m}人次",
        "举办“科学家精神”主题报告会{n}场，邀请{k}名科技工作者走进课堂",
        "在{k}所中小学开展科学精神主题班会和课外实践活动",
    ],
    "A1.2": [
        "督促各地开足开齐义务教育阶段科学课程，抽查学校{k}所",
        "开展科学课教学观摩和优质课评选{n}次，参与教师{k}名",
        "推进信息技术与科学教育融合，建成实验教学数字资源{w}批",
    ],
    "A1.3": [
        "支持高校建设科学素质线上开放课程{w}门",
        "指导高校举办科技讲座和学术沙龙{n}场，参与师生约{m}人次",
        "新增高校科技类学生社团{w}个，开展创新创业实践活动{n}次",
    ],
    "A1.4": [
        "组织青少年科技创新大赛等赛事{w}项，参赛学生{m}人次",
        "“小小科学家”人才库新增入库学生{k}名",
        "选派{k}名学生参加英才计划、少年科学院等培养项目",
    ],
    "A1.5": [
        "协调高校、科研院所、气象台站等{k}家单位向中小学开放科学教育资源",
        "组织研学实践和校外科学教育活动{n}场，参与学生约{m}人次",
        "开展“流动科技馆进校园”活动{n}次",
    ],
    "A1.6": [
        "举办中小学科学类学科教师培训班{n}期",
        "组织骨干教师赴省外跟岗研修{k}名",
        "开展送教下乡和农牧区教师科学素养专题培训{n}场",
    ],
    "A2.1": [
        "组织科普人员、科技工作者深入农村牧区开展移风易俗、反对封建迷信宣传{n}场，受众约{m}人次",
        "新建村（社区）科普小组{k}个",
        "发放藏汉双语科普宣传资料{m}份",
    ],
    "A2.2": [
        "举办高素质农牧民培训班{n}期",
        "开展农牧民职业技能鉴定和技能等级认定{k}人",
        "组织新时代农牧民技能大赛、网络科学素质竞赛{w}场",
    ],
    "A2.3": [
        "选派科技特派员{k}名深入乡村开展技术服务",
        "支持农牧民合作社、家庭农场建设科技示范基地{w}个",
        "组织高校和科研院所专家开展乡村振兴科技服务{n}次，推广新品种新技术{w}项",
    ],
    "A3.1": [
        "开展“中国梦·劳动美”主题宣传教育活动{n}场",
        "组织劳模工匠宣讲团进企业宣讲{n}场，覆盖职工约{m}人次",
        "选树“青海工匠”等先进典型{k}名",
    ],
    "A3.2": [
        "举办民营企业家科学素质和创新能力培训班{n}期",
        "组织企业家参加创新发展专题研修{n}次",
        "引导{k}家企业开展职工科学素质提升活动",
    ],
    "A3.3": [
        "全面推行终身职业技能培训制度，组织开展职业技能提升行动",
        "举办职工职业技能竞赛{w}项，参赛职工{m}人次",
        "组织劳模（职工）创新工作室开展技术攻关和成果交流{n}次",
    ],
    "A3.4": [
        "搭建网上培训学习平台，上线课程{k}门",
        "开展新职业、新业态从业人员技能培训{n}期",
        "组织职工技术交流活动{n}场",
    ],
    "A4.1": [
        "开展“最美家庭”“科学家风”宣传活动{n}场，参与妇女群众约{m}人次",
        "组织巾帼宣讲团开展科普宣讲{n}场",
    ],
    "A4.2": [
        "分层次对城镇和农牧区妇女开展科普知识培训{n}期，受益{m}人次",
        "利用新媒体平台推送科普信息{k}条",
    ],
    "A4.3": [
        "开展“青绣”、家政服务等技能培训{n}期，培训妇女{k}人",
        "新建“青绣—江源巧姑”工坊{w}个",
    ],
    "A4.4": [
        "举办巾帼创业创新大赛和项目对接会{w}场",
        "开展乡村振兴带头人培训{n}期，培训女性带头人{k}名",
    ],
    "A4.5": [
        "推荐女性科技人才参加科技交流合作活动{k}人次",
        "举办女科技工作者座谈会和学术交流活动{n}场",
    ],
    "A5.1": [
        "依托老年大学、社区科普大学开展智能技术培训{n}期，受益老年人约{m}人次",
        "组织志愿者进社区开展智能手机使用辅导{n}场",
        "推进智慧养老社区和智慧养老院建设，完成项目评估{w}个",
    ],
    "A5.2": [
        "开展健康大讲堂、老年健康宣传周等活动{n}场，覆盖老年人约{m}人次",
        "推动老年人健康科普进社区、进乡村、进机构，开展义诊咨询{n}次",
        "利用广播、电视和新媒体播发老年健康科普内容{k}条",
    ],
    "A5.3": [
        "组织老专家科普报告团开展宣讲{n}场",
        "新增老年科技志愿者{k}名",
    ],
    "A6.1": [
        "组织理论学习中心组围绕新发展理念开展专题学习{w}次",
        "开展科学素质建设专题调研{w}次",
        "结合本单位职能研究推进科学素质建设的具体举措{w}项",
    ],
    "A6.2": [
        "将科学素质内容纳入干部教育培训，举办专题讲座{n}场，参训干部{k}人次",
        "组织干部参加网络学院科学素质课程学习，累计完成学时{m}学时",
    ],
    "A6.3": [
        "在年度考核中落实科学素质有关要求",
        "在公务员录用考试中增加科学素养相关内容",
    ],
    "P1.1": [
        "围绕国家公园示范省建设开展生态科普宣传活动{n}场，受众约{m}人次",
        "组织“世界环境日”“全国低碳日”主题宣传活动{w}场",
        "编印生态保护科普读本{w}种",
    ],
    "P1.2": [
        "开展防灾减灾、安全生产应急科普宣教活动{n}场，覆盖群众约{m}人次",
        "组织应急演练{n}次",
        "完善应急科普专家人才库，新增专家{k}名",
    ],
    "P1.3": [
        "开展健康科普进基层活动{n}场，覆盖约{m}人次",
        "组织卫生应急救护知识与技能培训{n}期，培训{k}人",
        "通过网络和新媒体发布健康科普作品{k}件",
    ],
    "P2.1": [
        "将科普工作纳入{w}项科技计划项目考核指标",
        "开展科技创新成果科普服务评价{w}次",
    ],
    "P2.2": [
        "支持高校、科研机构开发科普资源{w}项",
        "引导学会开展学术科普活动{n}场",
    ],
    "P2.3": [
        "聘请科普专家、乡土专家{k}名，组建科普讲师团开展宣讲{n}场",
        "组织科技工作者开展科技志愿服务活动{n}次",
    ],
    "P3.1": [
        "推进科普信息化综合应用平台建设，完成{w}个功能模块开发",
        "推动各部门科普信息平台数据对接{w}项",
    ],
    "P3.2": [
        "完成科普场馆信息化改造{w}处",
        "统筹流动科技馆、科普大篷车开展线上线下结合服务{n}次",
    ],
    "P3.3": [
        "推动优质科普资源向偏远农牧区倾斜，推送数字科普资源{k}个",
        "开展智慧科普示范点建设{w}个",
    ],
    "P4.1": [
        "推进市州科技馆（室）建设，完成{w}个项目前期工作",
        "组织流动科技馆巡展{w}站，接待观众约{m}人次",
        "开展科普大篷车进基层活动{n}次",
    ],
    "P4.2": [
        "推动科技馆与博物馆、文化馆融合共享，联合举办展览{w}场",
        "研发科普展教品{w}件",
    ],
    "P4.3": [
        "开展科普教育基地复核{k}家",
        "组织科普基地开展开放日活动{n}场，接待公众约{m}人次",
    ],
    "P5.1": [
        "指导各地完善基层科学素质纲要组织工作体系，调研县区{w}个",
        "深化“3+1”模式，新建基层科协组织{k}个",
    ],
    "P5.2": [
        "依托新时代文明实践中心（所、站）开展科普志愿服务{n}场",
        "建设科普服务站点{k}个",
    ],
    "P5.3": [
        "推进科普示范县（市、区）创建，开展实地评估{w}次",
        "组织农村科普示范基地和科普示范社区申报评审{w}批",
    ],
    "P5.4": [
        "动员科技特派员、大学生村官等担任科普宣传骨干{k}名",
        "举办基层科普骨干培训班{n}期，培训{k}人",
    ],
    "P6.1": [
        "扶持优秀科普原创作品{w}部",
        "打造“科普大讲堂”，举办讲座{n}场",
    ],
    "P6.2": [
        "推动主流媒体开设科普专栏，播发科普节目{k}期",
        "指导电视台品牌科普栏目制作播出科普内容{k}期",
    ],
    "P6.3": [
        "推进“科普中国”落地县级融媒体中心{w}个",
        "组织科普信息员转发科普内容{m}篇次",
    ],
    "P7.1": [
        "围绕盐湖产业、清洁能源等领域开展省际科技交流活动{w}次",
        "组织参与“一带一路”科技人文交流项目{w}项",
    ],
    "P7.2": [
        "开展青少年科技交流合作项目{w}项",
        "组织参加全国科普产品博览交易会等活动{w}次",
    ],
    "P7.3": [
        "与省外科学组织开展交流互访{w}次",
        "学习借鉴先进地区科学素质建设经验，形成调研报告{w}篇",
    ],
}
GENERIC_ACTIVITIES = [
    "召开专题推进会{w}次，明确责任分工和时间节点",
    "开展相关宣传和培训活动{n}场，参与群众约{m}人次",
    "建立工作台账，按月调度工作进展",
]
PROBLEMS = [
    "农牧区师资不足，科学教育专业教师缺口较大",
    "基层科普人员流动性大，专业能力有待提升",
    "高海拔偏远地区活动组织成本高，覆盖面仍有不足",
    "部分县区科普经费落实不到位",
    "双语科普资源供给不足，藏语、蒙古语科普作品较少",
    "跨部门数据共享和协同机制尚不健全",
    "科普活动形式较为单一，吸引力有待增强",
    "科普信息化平台运维力量薄弱",
    "活动成效评估机制不完善，缺少量化跟踪",
]
REGION_WORK = [
    "召开全民科学素质工作联席会议{w}次，部署年度重点任务",
    "依托新时代文明实践中心（所、站）开展科普志愿服务{n}场，服务群众约{m}人次",
    "在农牧区开展科技下乡和科普大篷车巡展{n}次",
    "举办青少年科技创新大赛和科普讲座{n}场，参与学生约{m}人次",
    "开展农牧民实用技术培训{n}期，培训{k}人次",
    "新建和提升社区（村）科普活动室{w}个",
    "组织防灾减灾、健康知识等主题科普宣传活动{n}场",
    "落实本级科普经费，统筹用于基层科普设施和活动",
]
WINTER_PROBLEM = "受冬季气候影响，农牧区线下活动开展受限"
COVID_PROBLEM = "受疫情影响，部分线下活动延期或改为线上开展"
NEXT_STEPS = [
    "进一步扩大活动覆盖面，重点向农牧区、边远地区倾斜",
    "加强与相关成员单位的协调联动，形成工作合力",
    "总结推广典型经验做法，推动工作常态化",
    "加大双语科普资源开发力度",
    "加强基层科普队伍培训，提升服务能力",
    "积极争取专项资金支持，保障重点任务落实",
    "持续推进“{title}”相关工作，按季度报送进展",
    "建立工作台账，强化跟踪督促",
]
RETURN_COMMENTS = [
    "工作进展过于笼统，请补充具体活动场次和覆盖人数。",
    "存在问题和下一步计划未填写完整，请补充。",
    "请补充佐证材料（活动通知、照片或新闻报道）。",
    "部分指标数据与上季度差异较大，请在变动说明中说明原因。",
]
RETURN_COMMENTS_LOCAL = [
    "科普经费数据口径与财政预算执行数据不一致，请核实后重新报送。",
    "常住人口请采用统计部门公布的最新数据。",
]
REOPEN_FINAL = "总结评估数据核查：请核实本季度指标数据口径后更正。"
REOPEN_MIDTERM = "中期评估核查：工作进展与佐证材料不符，请更正。"
REOPEN_CHECK = "数据核查发现指标数据有误，请更正后重新提交。"
CORRECTION = "（已按退回意见补充完善）"
SOURCE_NOTES = {
    Combine.INCREMENT: ["本单位工作台账统计", "据各市州上报数据汇总", "业务管理系统导出数据"],
    Combine.LEVEL: ["业务管理信息系统统计", "年度统计监测数据", "年度工作方案"],
    Combine.COVERAGE: ["据各市州、县（市、区）上报情况汇总", "本单位工作台账统计"],
    Combine.MILESTONE: ["项目建设进度报告", "项目验收材料"],
}


# Results ----------------------------------------------------------------------------------------


@dataclass
class DemoResult:
    """What a build wrote, for the command's summary and the benchmarks."""

    units: int = 0
    skipped_units: int = 0
    submissions: Counter = field(default_factory=Counter)
    missing: int = 0
    late: int = 0
    lines: int = 0
    figures: int = 0
    region_figures: int = 0
    events: int = 0
    history: int = 0
    notifications: int = 0
    extensions: int = 0
    seconds: float = 0.0

    @property
    def created(self):
        return sum(self.submissions.values())


# Synthetic units (benchmarks) ----------------------------------------------------------------


def synthetic_county_count(scale: int) -> int:
    """How many synthetic county governments ``--scale`` adds: 101 per copy beyond the first."""
    return SYNTHETIC_PER_COPY * max(scale - 1, 0)


@transaction.atomic
def ensure_synthetic_units(scale: int) -> int:
    """Create the synthetic county regions and governments for ``scale``; return how many were new."""
    if scale <= 1:
        return 0
    counties = list(
        Unit.objects.local_governments()
        .filter(region__level=RegionLevel.COUNTY)
        .exclude(code__regex=SYNTHETIC_CODE.pattern)
        .select_related("region")
        .order_by("sort_order", "code")
    )
    if not counties:
        return 0
    wanted = []
    for copy in range(2, scale + 1):
        for i in range(SYNTHETIC_PER_COPY):
            base = counties[i % len(counties)]
            round_ = i // len(counties) + 1
            suffix = "" if round_ == 1 else f"-{round_}"
            wanted.append((copy, i, round_, suffix, base))
    have_units = set(Unit.objects.filter(code__regex=SYNTHETIC_CODE.pattern).values_list("code", flat=True))
    have_regions = set(Region.objects.filter(level=RegionLevel.COUNTY).values_list("code", flat=True))
    regions, units = [], []
    for copy, i, round_, suffix, base in wanted:
        code = f"x{copy}-{base.code}{suffix}"
        if code in have_units:
            continue
        region_code = f"{base.region.code}{copy:03d}{round_}"
        label = f"模拟{copy}{suffix}"
        if region_code not in have_regions:
            regions.append(
                Region(
                    code=region_code,
                    name=f"{base.region.name}（{label}）",
                    level=RegionLevel.COUNTY,
                    division_type=base.region.division_type,
                    parent_id=base.region.parent_id,
                )
            )
        units.append((code, region_code, base, label, copy * 1000 + i))
    Region.objects.bulk_create(regions, batch_size=BATCH)
    region_ids = dict(Region.objects.filter(code__in=[u[1] for u in units]).values_list("code", "pk"))
    Unit.objects.bulk_create(
        [
            Unit(
                code=code,
                name=f"{base.short_name}（{label}）人民政府",
                short_name=f"{base.short_name}（{label}）",
                kind=UnitKind.LOCAL_GOVERNMENT,
                region_id=region_ids[region_code],
                office_member=False,
                is_active=True,
                sort_order=100000 + order,
            )
            for code, region_code, base, label, order in units
        ],
        batch_size=BATCH,
    )
    return len(units)


# Deleting --------------------------------------------------------------------------------------


@transaction.atomic
def delete_progress(plan, unit_codes=None) -> int:
    """Delete the plan's submissions (of some units) with everything hanging off them, history too.

    The rows and their history records go in a few set-based statements: the rebuild that
    follows is demo data, and "deleted" history records of a throw-away demo would only clutter
    the audit trail.
    """
    submissions = Submission.objects.filter(period__plan=plan)
    if unit_codes:
        submissions = submissions.filter(unit__code__in=unit_codes)
    ids = list(submissions.values_list("pk", flat=True))
    if not ids:
        return 0
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for model in (MeasureLine, TargetFigure, RegionFigure):
            model.history.model.objects.filter(submission_id__in=chunk).delete()
            model.objects.filter(submission_id__in=chunk)._raw_delete(model.objects.db)
        Submission.history.model.objects.filter(id__in=chunk).delete()
        SubmissionEvent.objects.filter(submission_id__in=chunk).delete()
        Notification.objects.filter(submission_id__in=chunk).delete()
        evidence = Evidence.objects.filter(submission_id__in=chunk)
        files = [e.file for e in evidence if e.file]
        evidence.delete()
        transaction.on_commit(lambda files=files: [f.delete(save=False) for f in files])
        Submission.objects.filter(pk__in=chunk)._raw_delete(Submission.objects.db)
    return len(ids)


# Building --------------------------------------------------------------------------------------


def build_demo_progress(
    *, plan=None, seed=DEFAULT_SEED, unit_codes=None, reset=False, log=None
) -> DemoResult:
    """Fill the demo forms of every active unit (or of ``unit_codes``) that has none yet.

    Units that already have a submission in the plan are left alone, so a second run changes
    nothing; ``reset`` deletes their submissions first and builds them again.
    """
    started = time.perf_counter()
    plan = plan or current_plan()
    generate_periods(plan)
    periods = list(Period.objects.filter(plan=plan).order_by("year", "quarter"))
    units = Unit.objects.active().select_related("region").order_by("sort_order", "code")
    if unit_codes:
        units = units.filter(code__in=unit_codes)
    units = list(units)
    if reset:
        delete_progress(plan, unit_codes=[u.code for u in units] if unit_codes else None)
    with_data = set(Submission.objects.filter(period__plan=plan).values_list("unit_id", flat=True).distinct())
    todo = [u for u in units if u.pk not in with_data]
    result = DemoResult(skipped_units=len(units) - len(todo))
    if not todo:
        result.seconds = time.perf_counter() - started
        return result
    if not with_data:
        # A fresh demo: every quarter is over; 2025 Q4 stays open for the final evaluation.
        last = periods[-1]
        Period.objects.filter(plan=plan).exclude(pk=last.pk).update(state=PeriodState.CLOSED)
        Period.objects.filter(pk=last.pk).update(state=PeriodState.OPEN)
    context = _Context(plan, periods, seed)
    for start in range(0, len(todo), CHUNK_UNITS):
        chunk = todo[start : start + CHUNK_UNITS]
        with transaction.atomic():
            _Writer(context, chunk, result).run()
        if log:
            log(start + len(chunk), len(todo))
    result.units = len(todo)
    result.extensions = extend_featured(context, todo)
    result.seconds = time.perf_counter() - started
    return result


def extension_deadline(period, today=None) -> datetime.date:
    """The featured units' extended deadline: ``EXTENSION_DAYS`` after the latest of today, the
    demo's "now" and the period's own deadline, so the demo has an open deadline on any day."""
    today = today or timezone.localdate()
    return max(today, DEMO_NOW.date(), period.deadline) + datetime.timedelta(days=EXTENSION_DAYS)


def extend_featured(context, units, today=None) -> int:
    """The office's extensions of the latest period for ``FEATURED_EXTENDED`` units among ``units``
    (needs an office account to have granted them); returns how many were written."""
    from tasks.models import DeadlineExtension

    chosen = [u for u in units if u.code in FEATURED_EXTENDED]
    if not chosen or context.office_actor is None:
        return 0
    period = context.periods[-1]
    deadline = extension_deadline(period, today)
    for unit in chosen:
        DeadlineExtension.objects.update_or_create(
            period=period,
            unit=unit,
            defaults={
                "deadline": deadline,
                "reason": EXTENSION_REASON,
                "granted_by_id": context.office_actor,
                "granted_at": context.now,
            },
        )
    return len(chosen)


class _Context:
    """What every unit's build needs, loaded once: targets, measures, users, timestamps."""

    def __init__(self, plan, periods, seed):
        self.plan = plan
        self.periods = periods
        self.seed = seed
        self.tz = timezone.get_default_timezone()
        self.now = timezone.make_aware(DEMO_NOW, self.tz)
        self.targets = list(
            Target.objects.filter(plan=plan, per_region=False, external=False)
            .prefetch_related("reporting_units")
            .order_by("sort_order")
        )
        self.targets_by_unit = defaultdict(list)
        for target in self.targets:
            for unit in target.reporting_units.all():
                self.targets_by_unit[unit.pk].append(target)
        self.targets_by_code = {t.code: t for t in self.targets}
        self.assigned_unit_ids = set(
            Assignment.objects.filter(initiative__plan=plan, unit__isnull=False).values_list(
                "unit_id", flat=True
            )
        )
        self.all_members = Assignment.objects.filter(initiative__plan=plan, all_members=True).exists()
        self.work_points = defaultdict(list)
        for point in WorkPoint.objects.filter(plan=plan).prefetch_related("units").order_by("number"):
            for unit in point.units.all():
                self.work_points[(point.year, unit.pk)].append(point)
        self.series = {}
        self.paces = {}
        User = get_user_model()
        self.office_ids = list(
            User.objects.filter(is_active=True, membership__role=Role.OFFICE)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        self.office_actor = self.office_ids[0] if self.office_ids else None

    def measures_for(self, unit):
        if unit.pk in self.assigned_unit_ids or (self.all_members and unit.office_member):
            return list(assigned_measures(unit, self.plan))
        return []

    def pace(self, target):
        """How far a target gets by 2025: lagging, on course or ahead, the same for every reporter."""
        if target.code not in self.paces:
            rng = random.Random(f"{self.seed}:target:{target.code}")
            roll = rng.random()
            if roll < 0.25:
                pace = rng.uniform(0.72, 0.86)
            elif roll < 0.75:
                pace = rng.uniform(0.9, 1.05)
            else:
                pace = rng.uniform(1.06, 1.2)
            self.paces[target.code] = (pace, rng.random())
        return self.paces[target.code]

    def moment(self, day, rng):
        """A working-hours timestamp on ``day``."""
        minutes = rng.randint(8 * 60 + 30, 18 * 60 + 30)
        naive = datetime.datetime.combine(day, datetime.time(minutes // 60, minutes % 60, rng.randint(0, 59)))
        return timezone.make_aware(naive, self.tz)


def _q(value, places):
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _places(target):
    if target.measure_kind in WHOLE_NUMBER_KINDS:
        return 0
    if target.measure_kind in (MeasureKind.MONEY_PER_CAPITA, MeasureKind.MONEY):
        return 2
    return 1


def _smooth(i, n, rng, power=0.85):
    """A share of the way from 0 to 1 at step ``i`` of ``n``, rising smoothly with a little noise."""
    if n <= 0:
        return 1.0
    return min(1.0, max(0.0, (i / n) ** power + rng.uniform(-0.015, 0.015)))


def _allocate(total, weights, rng, whole):
    """Split ``total`` over periods in proportion to ``weights``: whole numbers stay whole."""
    wsum = sum(weights)
    if not whole:
        return [round(total * w / wsum, 2) for w in weights]
    total = round(total)
    if total < 60:  # a handful of sites or works: each one lands in one quarter
        counts = Counter(rng.choices(range(len(weights)), weights=weights, k=total))
        return [counts.get(i, 0) for i in range(len(weights))]
    raw = [total * w / wsum for w in weights]
    floors = [int(r) for r in raw]
    rest = total - sum(floors)
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - floors[i], reverse=True)[:rest]:
        floors[i] += 1
    return floors


def _series(context, target, unit, share):
    """The figures a unit would report for a target, one per period (baseline first)."""
    key = (target.code, unit.pk)
    if key in context.series:
        return context.series[key]
    periods = context.periods
    n = len(periods) - 1
    rng = random.Random(f"{context.seed}:{unit.code}:{target.code}")
    pace, pick = context.pace(target)
    places = _places(target)
    whole = places == 0
    values = []
    if target.code in LINKED and LINKED[target.code] in context.targets_by_code:
        other = context.targets_by_code[LINKED[target.code]]
        values = [dict(v) for v in _series(context, other, unit, share)]
    elif target.combine == Combine.INCREMENT:
        weights = [
            YEAR_PACE.get(p.year, 1.0)
            * (0.5 if p.is_baseline else SEASON[p.quarter])
            * rng.uniform(0.75, 1.25)
            for p in periods
        ]
        if target.time_scope == TimeScope.PER_YEAR:
            amounts = []
            for year in sorted({p.year for p in periods}):
                idx = [i for i, p in enumerate(periods) if p.year == year]
                scale = 0.25 if all(periods[i].is_baseline for i in idx) else 1.0
                yearly = float(target.value) * scale * pace * rng.uniform(0.92, 1.1) * share
                part = _allocate(yearly, [weights[i] for i in idx], rng, whole)
                amounts.extend(part)
        else:
            goal = float(target.value)
            if target.bound == Bound.RANGE and target.value_max is not None:
                goal = goal + (float(target.value_max) - goal) * (0.2 + 0.5 * pick)
            amounts = _allocate(goal * pace * share, weights, rng, whole)
        values = [{"value": _q(a, places)} for a in amounts]
    elif target.combine == Combine.LEVEL:
        start, end = LEVEL_PATHS.get(target.code, (float(target.value) * 0.6, float(target.value) * pace))
        end = end * rng.uniform(0.98, 1.02)
        if target.measure_kind == MeasureKind.PERCENTAGE or target.unit == "%":
            end = min(end, 99.0)
        years = sorted({p.year for p in periods})
        for i, period in enumerate(periods):
            if target.time_scope == TimeScope.PER_YEAR:
                f = years.index(period.year) / max(len(years) - 1, 1)
            else:
                f = _smooth(i, n, rng)
            values.append(start + (end - start) * f)
        for i in range(1, len(values)):  # a current value that rises, never slips back
            values[i] = max(values[i], values[i - 1])
        values = [{"value": _q(v, places)} for v in values]
    elif target.combine == Combine.COVERAGE:
        total, start, end = COVERAGE_PATHS.get(target.code, (float(target.value), 0.4, 1.0))
        end = min(1.0, end * (0.97 + 0.06 * pick))
        covered = [round(total * (start + (end - start) * _smooth(i, n, rng, 0.8))) for i in range(n + 1)]
        covered = list(accumulate(covered, max))
        values = [{"covered": _q(min(c, total), 0), "total": _q(total, 0)} for c in covered]
    else:  # milestone
        year, quarter = MILESTONE_DONE.get(target.code, (2023 + int(pick * 2), 1 + int(pick * 10) % 4))
        values = [{"done": (p.year, p.quarter) >= (year, quarter)} for p in periods]
    context.series[key] = values
    return values


def _jumped(before, now, combine):
    """The same test as ``targets.submission.services.jump_problems``: such a figure needs an explanation."""
    if now is None or before is None:
        return False
    if before == 0:
        return now > 0 and combine == Combine.LEVEL
    ratio = now / before
    return ratio > JUMP_RATIO or ratio < 1 / JUMP_RATIO


def _we(unit):
    """How a unit speaks of itself in its report: 我厅, 我委, 我局, 我会…"""
    name = unit.short_name
    if name == "团省委":
        return name
    for ending, word in (
        ("厅", "我厅"),
        ("委", "我委"),
        ("局", "我局"),
        ("部", "我部"),
        ("院", "我院"),
        ("校", "我校"),
    ):
        if name.endswith(ending):
            return word
    return "我会" if name[-1:] in "联协会" else "本单位"


def _fill(template, rng):
    return template.format(
        n=rng.randint(2, 12),
        k=rng.randint(8, 60),
        m=rng.randint(8, 90) * 100,
        w=rng.randint(1, 6),
        title="",
    )


def _figure_phrase(target, figure):
    """The figure as a clause of the measure's progress text, so text and figures agree."""
    if not figure:
        return ""
    if target.combine == Combine.INCREMENT:
        value = figure.get("value")
        if not value:
            return ""
        return f"本季度{target.name}新增{value.normalize():f}{target.unit}"
    if target.combine == Combine.LEVEL:
        return f"{target.name}达到{figure['value'].normalize():f}{target.unit}"
    if target.combine == Combine.COVERAGE:
        return f"{target.name}已覆盖{figure['covered']:f}/{figure['total']:f}"
    return f"{target.name}已建成并投入使用" if figure.get("done") else f"{target.name}建设有序推进"


# Timelines: what happened to one form, step by step --------------------------------------------


@dataclass
class _Step:
    """One event in a form's life: created, saved, submitted, approved, returned, reopened."""

    action: str
    at: datetime.datetime
    actor: int | None
    comment: str = ""
    correction: bool = False  # a save after a return or reopening: some text is supplemented


class _Writer:
    """Builds the rows of a chunk of units and writes them in bulk."""

    def __init__(self, context, units, result):
        self.c = context
        self.units = units
        self.result = result
        self.submissions = []  # (unit, period, steps, lines, figures, region figure) per form
        self.baselines = []  # (region id, 2020 per-capita funding) for T32
        self.unit_users = defaultdict(list)
        self.actors = {}
        rows = Membership.objects.filter(
            unit__in=units, role__in=[Role.REPORTER, Role.APPROVER], user__is_active=True
        ).values_list("unit_id", "role", "user_id")
        for unit_id, role, user_id in rows.order_by("user_id"):
            self.unit_users[unit_id].append(user_id)
            self.actors.setdefault((unit_id, role), user_id)

    # -- per unit ---------------------------------------------------------------------------

    def run(self):
        for unit in self.units:
            self.build_unit(unit)
        self.write()

    def build_unit(self, unit):
        c = self.c
        rng = random.Random(f"{c.seed}:{unit.code}")
        local = unit.kind == UnitKind.LOCAL_GOVERNMENT
        measures = c.measures_for(unit)
        targets = c.targets_by_unit.get(unit.pk, [])
        shares = {t.code: self.share(t, unit) for t in targets}
        series = {t.code: _series(c, t, unit, shares[t.code]) for t in targets}
        line_modes = {m.pk: self.line_mode(rng) for m in measures}
        region = self.region_plan(unit, rng) if local and unit.region_id else None
        if region:
            # The region's 2020 level (T32), on its own random stream so that the rest of the
            # demo stays what it was: mostly below the 2022 path, now and then above it.
            own = random.Random(f"{c.seed}:{unit.code}:2020")
            self.baselines.append((unit.region_id, round(region["per_capita"] * own.uniform(0.75, 1.08), 2)))
        last_approved = {}
        carried = defaultdict(Decimal)  # increments of forms that were never approved
        periods = c.periods
        for index, period in enumerate(periods):
            weights = LAST if index == len(periods) - 1 else SECOND_LAST if index == len(periods) - 2 else OLD
            weights = dict(weights)
            if local:
                weights["missing"] += LOCAL_EXTRA_MISSING
            outcome = rng.choices(list(weights), weights=list(weights.values()))[0]
            if index == len(periods) - 1:  # drawn all the same, so the random stream is unchanged
                outcome = FEATURED_LAST.get(unit.code, outcome)
            final = index >= len(periods) - 2  # outcomes still open in the latest two quarters
            if outcome == "missing":
                self.result.missing += 1
                for target in targets:
                    if target.combine == Combine.INCREMENT:
                        carried[target.code] += series[target.code][index]["value"]
                continue
            late_share = (
                LATE_SHARE_BASELINE if period.is_baseline else LATE_SHARE_LOCAL if local else LATE_SHARE
            )
            late = rng.random() < late_share
            steps = self.timeline(unit, period, outcome, late, index, rng)
            draft = outcome == "draft"
            figures = self.figures_for(index, targets, series, carried, last_approved, rng, draft)
            lines = self.lines_for(unit, period, index, measures, line_modes, targets, figures, rng, draft)
            region_values = self.region_for(region, period, rng, draft) if region else None
            if region_values is not None:
                region_values["narrative"] = self.region_narrative(unit, period, draft)
            self.submissions.append(
                (unit, period, steps, lines, [(t.pk, figures[t.code]) for t in targets], region_values)
            )
            for target in targets:
                data = figures[target.code]
                if outcome in WAS_APPROVED:
                    if data.get("value") is not None:
                        last_approved[target.pk] = data["value"]
                elif not final and target.combine == Combine.INCREMENT:
                    # Work in a form that was never approved is reported again in the next one.
                    value = data.get("value")
                    carried[target.code] += (
                        value if value is not None else series[target.code][index]["value"]
                    )

    def share(self, target, unit):
        reporters = list(target.reporting_units.all())
        if len(reporters) <= 1 or target.combine != Combine.INCREMENT:
            return 1.0
        weights = {u.pk: (1.5 if u.pk == target.owner_unit_id else 1.0) for u in reporters}
        return weights[unit.pk] / sum(weights.values())

    def line_mode(self, rng):
        """When a measure's line becomes routine (常态化) or done, and whether it starts late."""
        n = len(self.c.periods)
        roll = rng.random()
        return {
            "ongoing_from": rng.randint(5, n - 2) if roll < 0.6 else None,
            "done_from": rng.randint(9, n - 1) if roll > 0.92 else None,
            "slow_start": rng.random() < 0.15,
        }

    # -- timeline ---------------------------------------------------------------------------

    def timeline(self, unit, period, outcome, late, index, rng):
        c = self.c
        reporter = self.actors.get((unit.pk, Role.REPORTER))
        approver = self.actors.get((unit.pk, Role.APPROVER)) or reporter
        office = c.office_actor
        is_last = index == len(c.periods) - 1
        local = unit.kind == UnitKind.LOCAL_GOVERNMENT
        deadline = period.deadline
        steps = []
        day = deadline - datetime.timedelta(days=rng.randint(9, 18))
        if late:
            day = day + datetime.timedelta(days=rng.randint(8, 24))

        def add(action, actor, gap_min, gap_max, comment="", correction=False, on=None):
            nonlocal day
            if on is None:
                day = day + datetime.timedelta(days=rng.randint(gap_min, gap_max))
            else:
                day = on
            at = c.moment(day, rng)
            if steps and at <= steps[-1].at:  # two steps on one day: a little later the same day
                at = steps[-1].at + datetime.timedelta(minutes=rng.randint(5, 180))
            at = min(at, c.now)  # nothing happens after the demo's "now"
            steps.append(_Step(action, at, actor, comment, correction))

        def recent(days_back_max, days_back_min=1):
            return c.now.date() - datetime.timedelta(days=rng.randint(days_back_min, days_back_max))

        creator = reporter if rng.random() < 0.8 else approver
        if outcome == "draft" and is_last:
            add(EventAction.CREATED, creator, 0, 0, on=recent(40, 6))
        else:
            add(EventAction.CREATED, creator, 0, 0)
        for _i in range(rng.randint(1, 3)):
            action = EventAction.IMPORTED if rng.random() < 0.06 else EventAction.SAVED
            saver = reporter if rng.random() < 0.85 else approver
            add(action, saver, 0, 2)
        if outcome == "draft":
            return steps
        if late:
            # Late means first submitted after the deadline, whatever the draft's dates say.
            add(EventAction.SUBMITTED, approver, 0, 2, on=max(day, deadline + datetime.timedelta(days=1)))
        else:
            add(
                EventAction.SUBMITTED,
                approver,
                0,
                0,
                on=min(max(day, deadline - datetime.timedelta(days=6)), deadline),
            )
        comments = RETURN_COMMENTS + (RETURN_COMMENTS_LOCAL if local else [])
        if outcome == "submitted":
            if is_last and rng.random() < 0.5:  # back from a review, corrected, waiting again
                add(EventAction.RETURNED, office, 0, 0, comment=rng.choice(comments), on=recent(50, 30))
                add(EventAction.SAVED, reporter, 0, 0, correction=True, on=recent(28, 8))
                add(EventAction.SUBMITTED, approver, 0, 3)
            elif is_last:
                # Waiting for the office: move the submission into the last weeks (a late form).
                steps[-1].at = min(c.moment(recent(20), rng), c.now)
            return steps
        if outcome in ("returned", "returned_approved"):
            if outcome == "returned" and is_last:
                add(EventAction.RETURNED, office, 0, 0, comment=rng.choice(comments), on=recent(25))
                return steps
            add(EventAction.RETURNED, office, 1, 5, comment=rng.choice(comments))
            if outcome == "returned":
                return steps
            add(EventAction.SAVED, reporter, 0, 3, correction=True)
            add(EventAction.SUBMITTED, approver, 0, 3)
        add(EventAction.APPROVED, office, 1, 8)
        if outcome in ("reopened", "reopened_submitted"):
            add(EventAction.REOPENED, office, 0, 0, comment=REOPEN_FINAL, on=recent(40, 10))
            if outcome == "reopened_submitted":
                add(EventAction.SAVED, reporter, 1, 4, correction=True)
                add(EventAction.SUBMITTED, approver, 0, 2)
        elif outcome == "reopened_approved":
            reason = REOPEN_MIDTERM if period.year <= 2023 else REOPEN_CHECK
            add(EventAction.REOPENED, office, 30, 120, comment=reason)
            add(EventAction.SAVED, reporter, 1, 4, correction=True)
            add(EventAction.SUBMITTED, approver, 0, 2)
            add(EventAction.APPROVED, office, 1, 6)
        return steps

    # -- content ----------------------------------------------------------------------------

    def lines_for(self, unit, period, index, measures, modes, targets, figures, rng, draft):
        """[(measure, work point, typed fields or None for an untouched line)] in form order."""
        we = _we(unit)
        by_measure = defaultdict(list)
        for target in targets:
            if target.measure_id:
                by_measure[target.measure_id].append(target)
        rows = []
        for measure in measures:
            mode = modes[measure.pk]
            if draft and rng.random() < 0.4:
                rows.append((measure, None, None))
                continue
            rows.append(
                (
                    measure,
                    None,
                    self.narrative(unit, we, period, index, measure, mode, by_measure, figures, rng),
                )
            )
        for point in self.c.work_points.get((period.year, unit.pk), []):
            text = f"按照年度工作要点，推进“{point.title}”，完成阶段任务{rng.randint(1, 4)}项。"
            rows.append(
                (
                    None,
                    point,
                    {"status": MeasureStatus.IN_PROGRESS, "progress": text, "problems": "", "next_steps": ""},
                )
            )
        return rows

    def narrative(self, unit, we, period, index, measure, mode, by_measure, figures, rng):
        title = measure.title
        templates = ACTIVITIES.get(measure.code, GENERIC_ACTIVITIES)
        if period.is_baseline:
            status = MeasureStatus.NOT_STARTED if mode["slow_start"] else MeasureStatus.IN_PROGRESS
            progress = (
                f"方案印发后，{we}及时传达学习，对照“{title}”任务研究制定落实措施，明确责任处室和工作要求"
                + ("。" if mode["slow_start"] else f"；{_fill(rng.choice(templates), rng)}。")
            )
            return {
                "status": status,
                "progress": progress,
                "problems": "",
                "next_steps": "下一季度将细化任务清单，启动相关工作。",
            }
        if mode["done_from"] is not None and index >= mode["done_from"]:
            status = MeasureStatus.DONE
        elif mode["ongoing_from"] is not None and index >= mode["ongoing_from"]:
            status = MeasureStatus.ONGOING
        else:
            status = MeasureStatus.IN_PROGRESS
        chosen = rng.sample(templates, k=min(2, len(templates)))
        acts = [_fill(t, rng) for t in chosen]
        lead = rng.choice(
            [f"本季度，{we}围绕“{title}”，", f"{we}扎实推进“{title}”工作，", "按照年度工作要点，", ""]
        )
        if status == MeasureStatus.DONE:
            progress = f"该项任务已完成，本季度持续巩固成效，{acts[0]}"
        else:
            progress = lead + "；".join(acts)
        for target in by_measure.get(measure.pk, []):
            phrase = _figure_phrase(target, figures[target.code])
            if phrase:
                progress += f"；{phrase}"
        if status == MeasureStatus.ONGOING and rng.random() < 0.4:
            progress += f"。相关工作已纳入{we}年度重点工作并常态化推进"
        progress += "。"
        problems = ""
        if rng.random() < (0.25 if status != MeasureStatus.IN_PROGRESS else 0.45):
            pool = list(PROBLEMS)
            if period.quarter in (1, 4):
                pool.append(WINTER_PROBLEM)
            if period.year == 2022:
                pool += [COVID_PROBLEM] * 3
            problems = rng.choice(pool) + "。"
        step = rng.choice(NEXT_STEPS).format(title=title)
        if period.year == 2025 and period.quarter == 4:
            next_steps = "下一步将认真做好实施方案总结评估，谋划2026—2030年科学素质建设工作。"
        elif period.quarter == 4:
            next_steps = f"{period.year + 1}年将{step}。"
        else:
            next_steps = f"下一季度将{step}。"
        return {"status": status, "progress": progress, "problems": problems, "next_steps": next_steps}

    def figures_for(self, index, targets, series, carried, last_approved, rng, draft):
        """{target code: fields}, with explanations wherever the submit check would ask for one.

        An increment includes what earlier, never approved forms held (``carried``, emptied here).
        """
        rows = {}
        for target in targets:
            data = dict(series[target.code][index])
            if draft and rng.random() < 0.5:
                rows[target.code] = {}
                continue
            data["source_note"] = rng.choice(SOURCE_NOTES[target.combine])
            value = data.get("value")
            explanation = ""
            if target.combine == Combine.INCREMENT and carried.get(target.code):
                value = data["value"] = value + carried.pop(target.code)
                explanation = "含此前未获审核通过的报送期完成数。"
            before = last_approved.get(target.pk)
            if not explanation and _jumped(before, value, target.combine):
                if value == 0:
                    explanation = "本季度暂无新增，相关工作正在推进中。"
                elif value > before:
                    explanation = "本季度集中开展专项工作，数值较上季度明显增加。"
                else:
                    explanation = "受季节和工作安排影响，本季度数值较上季度减少。"
            data["explanation"] = explanation
            rows[target.code] = data
        return rows

    def write_baselines(self):
        """The regions' 2020 per-capita funding for the targets bounded by each region's own
        level; a value the office entered is kept."""
        targets = Target.objects.filter(plan=self.c.plan, per_region=True, value=0).exclude(
            bound="year_on_year"
        )
        self.write_survey_baselines()
        RegionBaseline.objects.bulk_create(
            [
                RegionBaseline(
                    target=target, region_id=region_id, value=value, source="演示数据：2020年决算数"
                )
                for target in targets
                for region_id, value in self.baselines
            ],
            ignore_conflicts=True,
        )

    # Survey targets the plan gives no baseline for: plausible 2020 values, marked as demo values
    # (the office enters the real ones from the 2020 survey and monitoring rounds).
    SURVEY_BASELINES = {
        "公民具备科学素质的比例": (Decimal("6.8"), "演示数据：2020年全国公民科学素质抽样调查（青海）"),
        "居民健康素养水平": (Decimal("17.2"), "演示数据：2020年居民健康素养监测（青海）"),
    }

    def write_survey_baselines(self):
        """Demo baselines for the survey targets; a baseline the office entered is kept."""
        for name, (value, source) in self.SURVEY_BASELINES.items():
            Target.objects.filter(plan=self.c.plan, name=name, baseline_value__isnull=True).update(
                baseline_value=value, baseline_year=2020, baseline_source=source, baseline_demo=True
            )

    def region_plan(self, unit, rng):
        """A region's per-capita path (元/人) and population (万人)."""
        region = unit.region
        population = POPULATION.get(region.code)
        if population is None:  # a synthetic county: near its model county's size
            base = POPULATION.get(region.code[:6], 5.0)
            population = round(base * rng.uniform(0.6, 1.4), 1)
        per_capita = rng.uniform(1.15, 2.3)
        county = region.level == RegionLevel.COUNTY
        under_floor = county and rng.random() < 0.12
        return {
            "population": population,
            "per_capita": per_capita,
            "growth": rng.uniform(0.02, 0.07),
            "county": county,
            "under_floor": under_floor,
            "floor_margin": rng.uniform(0.5, 8.0),
            "short": rng.uniform(1.5, 10.0),
        }

    def region_for(self, plan, period, rng, draft):
        """Funding for the year so far (万元) and population (万人) at the end of ``period``."""
        years = period.year - 2022
        population = plan["population"] * (1 + 0.003 * years)
        per_capita = plan["per_capita"] * (1 + plan["growth"]) ** years
        yearly = per_capita * population
        if plan["county"]:
            if plan["under_floor"] and yearly < COUNTY_FLOOR:
                yearly = COUNTY_FLOOR - plan["short"]  # persistently short of the floor
            elif yearly < COUNTY_FLOOR:
                yearly = COUNTY_FLOOR + plan["floor_margin"]
        if period.is_baseline:
            so_far = 1.0
            yearly *= 0.9
        else:
            so_far = {
                1: rng.uniform(0.18, 0.28),
                2: rng.uniform(0.42, 0.55),
                3: rng.uniform(0.68, 0.8),
                4: 1.0,
            }[period.quarter]
        funding = None if draft and rng.random() < 0.5 else _q(yearly * so_far, 2)
        return {
            "funding": funding,
            "population": _q(population, 2),
            "source_note": "本级财政预算执行数据；常住人口采用统计部门年度公报数据",
        }

    def region_narrative(self, unit, period, draft):
        """A local government's account of its own work in a quarter, on a random stream of its
        own (so the rest of the demo stays what it was without it)."""
        rng = random.Random(f"{self.c.seed}:{unit.code}:{period.key}:narrative")
        if draft and rng.random() < 0.5:
            return ""
        parts = [_fill(t, rng) for t in rng.sample(REGION_WORK, 3)]
        return f"本季度，{unit.short_name}" + "；".join(parts) + "。"

    # -- writing ----------------------------------------------------------------------------

    def write(self):
        if not self.submissions:
            return
        self.write_baselines()
        c = self.c
        result = self.result
        SubmissionHistory = Submission.history.model
        LineHistory = MeasureLine.history.model
        FigureHistory = TargetFigure.history.model
        RegionHistory = RegionFigure.history.model

        objects = []
        for unit, period, steps, _lines, _figures, _region in self.submissions:
            submission = self.submission_from(unit, period, steps)
            objects.append(submission)
            result.submissions[submission.status] += 1
            first = submission.first_submitted_at
            result.late += bool(first and timezone.localdate(first, c.tz) > period.deadline)
        with _keep_timestamps(Submission, "created_at", "updated_at"):
            Submission.objects.bulk_create(objects, batch_size=BATCH)

        lines, figures, regions = [], [], []
        line_history, figure_history, region_history, sub_history = [], [], [], []
        events, notifications = [], []
        for submission, (unit, period, steps, line_rows, figure_rows, region_row) in zip(
            objects, self.submissions, strict=True
        ):
            created = steps[0].at
            saves = [s for s in steps if s.action in (EventAction.SAVED, EventAction.IMPORTED)]
            first_save = saves[0]
            correction = next((s for s in steps if s.correction), None)
            # Lines: created empty; filled at the first save; a few supplemented at a correction.
            corrected = set()
            if correction is not None and line_rows:
                corrected = set(range(min(len(line_rows), 3)))
            for order, (measure, point, fields) in enumerate(line_rows, start=1):
                line = MeasureLine(
                    submission_id=submission.pk,
                    measure=measure,
                    work_point=point,
                    sort_order=order,
                )
                history = [(created, None, "+", {})]
                if fields:
                    final = dict(fields)
                    if order - 1 in corrected and final["progress"]:
                        history.append((first_save.at, first_save.actor, "~", dict(fields)))
                        final["progress"] = final["progress"] + CORRECTION
                        history.append((correction.at, correction.actor, "~", dict(final)))
                    else:
                        history.append((first_save.at, first_save.actor, "~", dict(final)))
                    for name, value in final.items():
                        setattr(line, name, value)
                lines.append((line, history))
            for target_id, data in figure_rows:
                figure = TargetFigure(submission_id=submission.pk, target_id=target_id)
                history = [(created, None, "+", {})]
                if data:
                    for name, value in data.items():
                        setattr(figure, name, value)
                    history.append((first_save.at, first_save.actor, "~", dict(data)))
                figures.append((figure, history))
            if region_row is not None:
                region = RegionFigure(submission_id=submission.pk, region_id=unit.region_id)
                history = [(created, None, "+", {})]
                data = dict(region_row)
                if correction is not None:
                    history.append((first_save.at, first_save.actor, "~", dict(data)))
                    data["source_note"] = data["source_note"] + "（已按财政决算数据核实）"
                    history.append((correction.at, correction.actor, "~", dict(data)))
                else:
                    history.append((first_save.at, first_save.actor, "~", dict(data)))
                for name, value in data.items():
                    setattr(region, name, value)
                regions.append((region, history))
            events.extend(self.events_for(submission, steps))
            sub_history.extend(self.submission_history(submission, steps, SubmissionHistory))
            notifications.extend(self.notifications_for(submission, unit, period, steps))

        for model, rows, History, bucket in (
            (MeasureLine, lines, LineHistory, line_history),
            (TargetFigure, figures, FigureHistory, figure_history),
            (RegionFigure, regions, RegionHistory, region_history),
        ):
            model.objects.bulk_create([obj for obj, _h in rows], batch_size=BATCH)
            tracked = [f.attname for f in History.tracked_fields]
            empty = _empty_state(model)
            for obj, history in rows:
                base = {name: getattr(obj, name) for name in tracked}
                for when, user, kind, fields in history:
                    # The row as it was then: created empty, then what the user had typed.
                    values = {**base, **empty, **fields}
                    bucket.append(
                        History(
                            history_date=when,
                            history_user_id=user,
                            history_type=kind,
                            history_change_reason=None,
                            **values,
                        )
                    )
            History.objects.bulk_create(bucket, batch_size=BATCH)
        SubmissionHistory.objects.bulk_create(sub_history, batch_size=BATCH)
        SubmissionEvent.objects.bulk_create(events, batch_size=BATCH)
        Notification.objects.bulk_create(notifications, batch_size=BATCH)

        result.lines += len(lines)
        result.figures += len(figures)
        result.region_figures += len(regions)
        result.events += len(events)
        result.notifications += len(notifications)
        result.history += len(line_history) + len(figure_history) + len(region_history) + len(sub_history)

    def submission_from(self, unit, period, steps):
        """The submission's final fields, as the services would have left them after ``steps``."""
        state = self.replay(steps)[-1][1]
        submission = Submission(unit=unit, period=period, **state)
        submission.created_at = steps[0].at
        submission.updated_at = steps[-1].at
        return submission

    def replay(self, steps):
        """[(step, fields after it)]: the submission's state through its workflow."""
        state = {
            "status": SubmissionStatus.DRAFT,
            "version": 1,
            "revision": 0,
            "updated_by_id": steps[0].actor,
            "submitted_at": None,
            "first_submitted_at": None,
            "submitted_by_id": None,
            "reviewed_at": None,
            "reviewed_by_id": None,
            "review_comment": "",
        }
        states = [(steps[0], dict(state))]
        for step in steps[1:]:
            state["version"] += 1
            state["updated_by_id"] = step.actor
            if step.action == EventAction.SUBMITTED:
                state["status"] = SubmissionStatus.SUBMITTED
                state["submitted_at"] = step.at
                state["submitted_by_id"] = step.actor
                state["first_submitted_at"] = state["first_submitted_at"] or step.at
            elif step.action in (EventAction.APPROVED, EventAction.RETURNED, EventAction.REOPENED):
                state["status"] = (
                    SubmissionStatus.APPROVED
                    if step.action == EventAction.APPROVED
                    else SubmissionStatus.RETURNED
                )
                state["reviewed_at"] = step.at
                state["reviewed_by_id"] = step.actor
                state["review_comment"] = step.comment if state["status"] == SubmissionStatus.RETURNED else ""
                if step.action == EventAction.REOPENED:
                    state["revision"] += 1
            states.append((step, dict(state)))
        return states

    def events_for(self, submission, steps):
        events = []
        status = ""
        for step, state in self.replay(steps):
            before = status if step.action != EventAction.CREATED else ""
            after = state["status"]
            if step.action in (EventAction.SAVED, EventAction.IMPORTED):
                before = after
            events.append(
                SubmissionEvent(
                    submission_id=submission.pk,
                    action=step.action,
                    actor_id=step.actor,
                    at=step.at,
                    from_status=before,
                    to_status=after,
                    comment=step.comment,
                )
            )
            status = after
        return events

    def submission_history(self, submission, steps, History):
        """A "+" record at creation and a "~" record per transition (saves bump the version with
        an UPDATE, which leaves no history record)."""
        rows = []
        tracked = [f.attname for f in History.tracked_fields]
        base = {name: getattr(submission, name) for name in tracked}
        for step, state in self.replay(steps):
            if step.action in (EventAction.SAVED, EventAction.IMPORTED):
                continue
            values = dict(base)
            values.update(state)
            rows.append(
                History(
                    history_date=step.at,
                    history_user_id=None,
                    history_type="+" if step.action == EventAction.CREATED else "~",
                    history_change_reason=None,
                    **values,
                )
            )
        return rows

    def notifications_for(self, submission, unit, period, steps):
        """The bell messages the services send: the office hears of submissions, the unit of reviews,
        in Chinese and in English (as ``tasks.services.notify`` writes them)."""
        c = self.c

        def message_in(language, step):
            with translation.override(language):
                form = f"{display_name(unit)} · {period}"
                if step.action == EventAction.SUBMITTED:
                    return _("%(form)s 已提交，等待审核。") % {"form": form}
                if step.action == EventAction.APPROVED:
                    return _("%(form)s 已审核通过。") % {"form": form}
                if step.action == EventAction.RETURNED:
                    return _("%(form)s 被退回修改：%(comment)s") % {"form": form, "comment": step.comment}
                return _("%(form)s 已重新开放，请更正后重新提交：%(reason)s") % {
                    "form": form,
                    "reason": step.comment,
                }

        rows = []
        for step in steps:
            if step.action == EventAction.SUBMITTED:
                users, kind = c.office_ids, NotificationKind.SUBMITTED
            elif step.action == EventAction.APPROVED:
                users, kind = self.unit_users[unit.pk], NotificationKind.APPROVED
            elif step.action == EventAction.RETURNED:
                users, kind = self.unit_users[unit.pk], NotificationKind.RETURNED
            elif step.action == EventAction.REOPENED:
                users, kind = self.unit_users[unit.pk], NotificationKind.REOPENED
            else:
                continue
            message = message_in(settings.LANGUAGE_CODE, step)
            message_en = message_in("en", step)
            # Read within a day or two, except what arrived in the last three weeks.
            read_at = None
            if step.at < c.now - datetime.timedelta(days=21):
                read_at = step.at + datetime.timedelta(hours=2 + step.at.minute % 40)
            rows.extend(
                Notification(
                    user_id=user_id,
                    kind=kind,
                    message=message,
                    message_en=message_en,
                    submission_id=submission.pk,
                    created_at=step.at,
                    read_at=read_at,
                )
                for user_id in users
            )
        return rows


# What a user types into each kind of row; the rest (form, measure, order) is set at creation.
CONTENT_FIELDS = {
    MeasureLine: ("status", "progress", "problems", "next_steps"),
    TargetFigure: ("value", "covered", "total", "done", "source_note", "explanation"),
    RegionFigure: ("funding", "population", "source_note"),
}


def _empty_state(model):
    """Content of a row as ``ensure_submission`` creates it, before anyone types."""
    blank = model()
    return {name: getattr(blank, name) for name in CONTENT_FIELDS[model]}


@contextmanager
def _keep_timestamps(model, *names):
    """Let bulk_create keep the timestamps we set instead of stamping "now" (auto_now[_add])."""
    fields = [model._meta.get_field(name) for name in names]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


# Self-assessments of the final evaluation (自评) ------------------------------------------------

SELF_ASSESSMENT_DAYS = 45  # the final round's deadline: this many days after today (or DEMO_NOW)
FEATURED_SELF_ASSESSMENT = {"jyt": SubmissionStatus.DRAFT, "kjt": SubmissionStatus.SUBMITTED}
APPROVED_SELF_ASSESSMENTS = 8  # the first member units in order, besides the featured ones

SA_ACHIEVEMENTS = [
    "“十四五”以来，{unit}认真落实《实施方案》分工，把科学素质工作纳入本单位年度重点工作，共牵头或参与{n}项工作措施。",
    "围绕{initiative}，组织开展各类科普活动，覆盖农牧区、城镇社区和学校，服务群众逾{people}万人次。",
    "健全工作机制，明确分管领导和联络员，按季度报送工作进展，资料归档完整。",
]
SA_PROBLEMS = [
    "农牧区和偏远地区科普资源相对薄弱，线下活动受季节和交通影响较大。",
    "专职科普人员数量不足，基层科普队伍专业化水平有待提升。",
    "部分措施的成效评价以活动数量为主，对群众科学素质提升的效果评估还不够深入。",
]
SA_NEXT_STEPS = [
    "巩固“十四五”工作成果，总结推广好经验好做法，形成长效机制。",
    "加大对农牧区、民族地区的科普资源倾斜，推动优质资源下沉。",
    "做好与“十五五”全民科学素质工作的衔接，提前谋划重点任务。",
]
SA_NOTES = {
    "done": "已按《实施方案》要求完成，相关工作常态化开展。",
    "mostly": "主体任务已完成，个别地区进度稍慢，年底前完成收尾。",
    "not_done": "受经费和人员条件限制未能全面完成，已列入下一步工作。",
}


def build_demo_self_assessments(*, plan=None, seed=DEFAULT_SEED, today=None, reset=False) -> dict:
    """The final evaluation round, open with its deadline ahead of today, and the member units'
    self-assessments: the first ``APPROVED_SELF_ASSESSMENTS`` approved, 省科技厅's submitted and
    waiting for the office, 省教育厅's a draft (``FEATURED_SELF_ASSESSMENT``). Deterministic for a
    seed; a second run changes nothing (``reset`` builds the self-assessments again).

    Returns the number of self-assessments per status written by this run."""
    from tasks.choices import EvaluationKind, Judgement
    from tasks.models import EvaluationRound, MeasureJudgement, SelfAssessment, SelfAssessmentEvent
    from tasks.services import evaluation_year

    plan = plan or current_plan()
    today = today or timezone.localdate()
    tz = timezone.get_default_timezone()
    now = timezone.make_aware(DEMO_NOW, tz)
    User = get_user_model()
    office = User.objects.filter(is_active=True, membership__role=Role.OFFICE).order_by("pk").first()
    deadline = max(today, DEMO_NOW.date()) + datetime.timedelta(days=SELF_ASSESSMENT_DAYS)
    counts = Counter()
    with transaction.atomic():
        evaluation, created = EvaluationRound.objects.get_or_create(
            plan=plan,
            kind=EvaluationKind.FINAL,
            defaults={
                "year": evaluation_year(plan, EvaluationKind.FINAL),
                "opens_on": DEMO_NOW.date() - datetime.timedelta(days=20),
                "deadline": deadline,
                "state": PeriodState.OPEN,
                "opened_by": office,
                "opened_at": now - datetime.timedelta(days=20),
            },
        )
        if not created and evaluation.deadline < today:  # keep the demo's deadline ahead
            EvaluationRound.objects.filter(pk=evaluation.pk).update(deadline=deadline, state=PeriodState.OPEN)
        if reset:
            SelfAssessment.objects.filter(round=evaluation).delete()
        if SelfAssessment.objects.filter(round=evaluation).exists():
            return dict(counts)
        members = [
            u
            for u in Unit.objects.office_members().order_by("sort_order", "code")
            if not is_synthetic(u.code)
        ]
        plain = [u for u in members if u.code not in FEATURED_SELF_ASSESSMENT][:APPROVED_SELF_ASSESSMENTS]
        chosen = [(u, SubmissionStatus.APPROVED) for u in plain] + [
            (u, FEATURED_SELF_ASSESSMENT[u.code]) for u in members if u.code in FEATURED_SELF_ASSESSMENT
        ]
        for index, (unit, status) in enumerate(chosen):
            rng = random.Random(f"{seed}-self-assessment-{unit.code}")
            measures = list(assigned_measures(unit, plan))
            approver = User.objects.filter(username=f"{unit.code}-approver").first()
            reporter = User.objects.filter(username=f"{unit.code}-reporter").first()
            initiatives = "、".join(dict.fromkeys(m.initiative.title for m in measures)) or "科学素质提升工作"
            texts = {
                "achievements": "\n".join(SA_ACHIEVEMENTS).format(
                    unit=unit.name, n=len(measures), initiative=initiatives, people=rng.randint(3, 60)
                ),
                "problems": "\n".join(rng.sample(SA_PROBLEMS, 2)),
                "next_steps": "\n".join(SA_NEXT_STEPS),
            }
            started = now - datetime.timedelta(days=15 - index % 5, hours=rng.randint(1, 8))
            submitted = started + datetime.timedelta(days=2)
            reviewed = submitted + datetime.timedelta(days=1)
            assessment = SelfAssessment.objects.create(
                round=evaluation,
                unit=unit,
                status=status,
                updated_by=reporter,
                submitted_at=submitted if status != SubmissionStatus.DRAFT else None,
                submitted_by=approver if status != SubmissionStatus.DRAFT else None,
                reviewed_at=reviewed if status == SubmissionStatus.APPROVED else None,
                reviewed_by=office if status == SubmissionStatus.APPROVED else None,
                **texts,
            )
            rows = []
            for number, measure in enumerate(measures, start=1):
                value = rng.choices(
                    [Judgement.DONE, Judgement.MOSTLY, Judgement.NOT_DONE], weights=[75, 20, 5]
                )[0]
                if status == SubmissionStatus.DRAFT and number > len(measures) // 2:
                    value = ""  # the draft is half done: its approver cannot submit it yet
                rows.append(
                    MeasureJudgement(
                        self_assessment=assessment,
                        measure=measure,
                        judgement=value,
                        note=SA_NOTES[value] if value else "",
                        evidence_ref=f"{unit.name}{measure.code}工作总结" if value == Judgement.DONE else "",
                        sort_order=number,
                    )
                )
            MeasureJudgement.objects.bulk_create(rows)
            events = [(EventAction.CREATED, reporter, "", SubmissionStatus.DRAFT, started)]
            if status != SubmissionStatus.DRAFT:
                events.append(
                    (
                        EventAction.SUBMITTED,
                        approver,
                        SubmissionStatus.DRAFT,
                        SubmissionStatus.SUBMITTED,
                        submitted,
                    )
                )
            if status == SubmissionStatus.APPROVED:
                events.append(
                    (
                        EventAction.APPROVED,
                        office,
                        SubmissionStatus.SUBMITTED,
                        SubmissionStatus.APPROVED,
                        reviewed,
                    )
                )
            SelfAssessmentEvent.objects.bulk_create(
                SelfAssessmentEvent(
                    self_assessment=assessment, action=a, actor=who, from_status=f, to_status=t, at=at
                )
                for a, who, f, t, at in events
            )
            SelfAssessment.objects.filter(pk=assessment.pk).update(created_at=started, updated_at=submitted)
            counts[status] += 1
    return dict(counts)
