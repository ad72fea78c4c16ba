"""Name tables for the synthetic organisation: people, places, companies and departments.

Hand-written on purpose: a few hundred characters with their pinyin are all the generator needs,
and keeping them here means no data download and account ids that stay stable across versions.
"""

from __future__ import annotations

# (surname, pinyin, relative frequency per mille, roughly the national ranking; 储 and 檀 are
# common around 太湖/安庆, so the county looks local).
SURNAMES: list[tuple[str, str, float]] = [
    ("王", "wang", 71), ("李", "li", 70), ("张", "zhang", 67), ("刘", "liu", 54), ("陈", "chen", 45),
    ("杨", "yang", 31), ("黄", "huang", 22), ("赵", "zhao", 20), ("吴", "wu", 20), ("周", "zhou", 19),
    ("徐", "xu", 13), ("孙", "sun", 13), ("马", "ma", 11), ("朱", "zhu", 11), ("胡", "hu", 10),
    ("郭", "guo", 10), ("何", "he", 9), ("高", "gao", 9), ("林", "lin", 9), ("罗", "luo", 9),
    ("郑", "zheng", 8), ("梁", "liang", 8), ("谢", "xie", 6), ("宋", "song", 6), ("唐", "tang", 6),
    ("许", "xu", 6), ("韩", "han", 5), ("冯", "feng", 5), ("邓", "deng", 5), ("曹", "cao", 5),
    ("彭", "peng", 5), ("曾", "zeng", 5), ("肖", "xiao", 5), ("田", "tian", 4), ("董", "dong", 4),
    ("袁", "yuan", 4), ("潘", "pan", 4), ("于", "yu", 4), ("蒋", "jiang", 4), ("蔡", "cai", 4),
    ("余", "yu", 4), ("杜", "du", 4), ("叶", "ye", 4), ("程", "cheng", 4), ("苏", "su", 3),
    ("魏", "wei", 3), ("吕", "lv", 3), ("丁", "ding", 3), ("任", "ren", 3), ("沈", "shen", 3),
    ("姚", "yao", 3), ("卢", "lu", 3), ("姜", "jiang", 3), ("崔", "cui", 3), ("钟", "zhong", 3),
    ("谭", "tan", 3), ("陆", "lu", 3), ("汪", "wang", 3), ("范", "fan", 3), ("金", "jin", 3),
    ("石", "shi", 3), ("廖", "liao", 3), ("贾", "jia", 2), ("夏", "xia", 2), ("方", "fang", 2),
    ("储", "chu", 2), ("檀", "tan", 1), ("付", "fu", 2), ("殷", "yin", 1), ("江", "jiang", 2),
]  # fmt: skip

MALE_GIVEN: list[tuple[str, str]] = [
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"), ("杰", "jie"),
    ("涛", "tao"), ("斌", "bin"), ("超", "chao"), ("明", "ming"), ("刚", "gang"), ("平", "ping"),
    ("辉", "hui"), ("鹏", "peng"), ("华", "hua"), ("飞", "fei"), ("鑫", "xin"), ("波", "bo"),
    ("宇", "yu"), ("浩", "hao"), ("凯", "kai"), ("健", "jian"), ("俊", "jun"), ("帆", "fan"),
    ("旭", "xu"), ("宁", "ning"), ("龙", "long"), ("林", "lin"), ("峰", "feng"), ("建", "jian"),
    ("国", "guo"), ("志", "zhi"), ("文", "wen"), ("德", "de"), ("海", "hai"), ("东", "dong"),
    ("生", "sheng"), ("春", "chun"), ("荣", "rong"), ("光", "guang"), ("成", "cheng"), ("庆", "qing"),
    ("永", "yong"), ("兵", "bing"), ("学", "xue"), ("忠", "zhong"), ("祥", "xiang"), ("新", "xin"),
    ("福", "fu"), ("贵", "gui"), ("金", "jin"), ("胜", "sheng"), ("山", "shan"), ("松", "song"),
    ("振", "zhen"), ("家", "jia"), ("立", "li"), ("卫", "wei"), ("红", "hong"), ("晓", "xiao"),
]  # fmt: skip

FEMALE_GIVEN: list[tuple[str, str]] = [
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("艳", "yan"),
    ("娟", "juan"), ("霞", "xia"), ("燕", "yan"), ("玲", "ling"), ("婷", "ting"), ("慧", "hui"),
    ("莉", "li"), ("萍", "ping"), ("琳", "lin"), ("倩", "qian"), ("雪", "xue"), ("梅", "mei"),
    ("兰", "lan"), ("秀", "xiu"), ("英", "ying"), ("华", "hua"), ("琴", "qin"), ("云", "yun"),
    ("洁", "jie"), ("颖", "ying"), ("佳", "jia"), ("欣", "xin"), ("悦", "yue"), ("晶", "jing"),
    ("凤", "feng"), ("桂", "gui"), ("珍", "zhen"), ("月", "yue"), ("春", "chun"), ("淑", "shu"),
    ("玉", "yu"), ("翠", "cui"), ("瑶", "yao"), ("丹", "dan"), ("红", "hong"), ("晓", "xiao"),
]  # fmt: skip

# Two characters make a village or town name: 徐桥, 新仓, 小池, 寺前…
PLACE_FIRST = "新东西南北大小长高石白青黄龙马金花桃柳杨李王张刘陈徐寺天牛晋弥汪程朱罗凉百刘佛天徐太湖望"
PLACE_SECOND = "桥湾河山岭冲畈店集庄坪塘岗圩湖口铺坝园林田沟港墩楼屋埠亭营寨"
COMMUNITY_NAMES = [
    "幸福", "和平", "建设", "人民", "文化", "光明", "胜利", "团结", "友谊", "朝阳", "东城", "西城",
    "南苑", "北苑", "新华", "康乐", "龙山", "滨湖", "长安", "育才", "花园", "书院", "翠竹", "锦绣",
    "春晖", "阳光", "和谐", "振兴", "富民", "安居", "民主", "学府", "丰收", "星光", "金桥", "清风",
]  # fmt: skip
COMPANY_WORDS = [
    "恒通", "华晨", "鑫源", "宏达", "天成", "瑞丰", "金盛", "新宇", "永发", "安泰", "嘉禾", "博远",
    "众诚", "利民", "万隆", "同创", "兴业", "长青", "龙腾", "精工", "汇丰", "德润", "佳美", "正阳",
]  # fmt: skip
INDUSTRIES = [
    "纺织", "电子", "建材", "农业科技", "食品", "机械", "物流", "新能源", "医药", "服饰", "包装",
    "羽绒", "茶业", "环保科技", "信息技术", "建筑工程", "家居", "汽车配件",
]  # fmt: skip
SOCIAL_ORGS = [
    "律师事务所",
    "会计师事务所",
    "物业服务有限公司",
    "养老服务中心",
    "商会",
    "行业协会",
    "社会工作服务中心",
]
DEPARTMENTS = [
    "县委办公室", "县政府办公室", "县委组织部", "县委宣传部", "县委统战部", "县委政法委", "县纪委监委",
    "县发展和改革委员会", "县教育体育局", "县科技局", "县经济和信息化局", "县民政局", "县司法局",
    "县财政局", "县人力资源和社会保障局", "县自然资源和规划局", "县住房和城乡建设局", "县交通运输局",
    "县水利局", "县农业农村局", "县商务局", "县文化旅游体育局", "县退役军人事务局", "县应急管理局",
    "县审计局", "县市场监督管理局", "县统计局", "县医疗保障局", "县林业局", "县信访局",
    "县数据资源管理局", "县人民法院", "县人民检察院", "县总工会", "团县委", "县妇联", "县档案馆",
    "县融媒体中心", "县城市管理局", "县税务局", "县供电公司", "县气象局", "县供销社", "县委党校",
]  # fmt: skip
NUMERALS = "一二三四五六七八九十"

EXEMPT_REASONS = ["年老体弱，行动不便", "长期患病", "孕产期"]

# The two-or-three-digit counter after the pinyin keeps account ids unique and readable: zhangwei01.
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "158", "159", "166", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189",
    "198", "199",
]  # fmt: skip


def ordinal(n: int) -> str:
    """第一, 第二 … 第十, 第十一 … 第九十九: for 第一党支部, 第二党小组."""
    if n <= 10:
        return NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else NUMERALS[tens - 1]
    return head + "十" + (NUMERALS[ones - 1] if ones else "")
