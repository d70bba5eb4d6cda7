// 区划与目录 and the registry editing dialogs (issue 19): kinds, fields, options and messages of
// web/src/views/registry/kinds.js, the dialog and the page.
export default {
  "reg": {
    "o": {
      "old": "老旧小区",
      "commercial": "商品房小区",
      "unit": "单位宿舍",
      "other": "其他",
      "shop": "商铺",
      "restaurant": "餐饮",
      "market_stall": "夜市摊位",
      "service": "生活服务",
      "open": "营业中",
      "closed": "已停业",
      "care": "关爱",
      "identity": "身份",
      "work": "工作",
      "registered": "户籍户",
      "resident": "常住户",
      "floating": "流动户"
    },
    "k": {
      "street": "街道",
      "community": "社区",
      "grid": "网格",
      "estate": "小区",
      "building": "楼栋",
      "room": "房屋",
      "shop": "商户",
      "tag": "标签",
      "household": "家庭户"
    },
    "f": {
      "name": "名称",
      "code": "编码",
      "street_id": "所属街道",
      "address": "地址",
      "phone": "电话",
      "description": "说明",
      "kind": "类型",
      "grid_id": "网格",
      "built_year": "建成年份",
      "property_company": "物业公司",
      "estate_id": "所属小区",
      "floors": "层数",
      "units": "单元数",
      "has_elevator": "是否有电梯",
      "unit": "单元",
      "number": "房号",
      "floor": "楼层",
      "area": "面积（㎡）",
      "status": "状态",
      "owner_name": "经营者",
      "license_no": "营业执照号",
      "category": "类别",
      "rule": "规则",
      "sort": "排序",
      "number_householdnum": "户号",
      "kind_householdtyp": "户别",
      "room_id": "房屋",
      "head_resident_id": "户主",
      "notes": "备注"
    },
    "msg": {
      "phone": "电话号码格式不正确",
      "tagCode": "标签编码须以小写字母开头，由 2 到 32 个小写字母、数字或下划线组成",
      "required": "请填写{label}",
      "tooLong": "{label}不能超过 {max} 个字",
      "int": "{label}应为整数",
      "number": "{label}应为数字",
      "range": "{label}应在 {min} 到 {max} 之间"
    },
    "ph": {
      "rule": "例如 age>=80（留空为手工标签）",
      "gridHint": "选了房屋时随房屋所在楼栋的网格"
    },
    "newTitle": "新建{kind}",
    "editTitle": "编辑{kind}",
    "created": "已新建{kind}",
    "saved": "已保存",
    "community": "所属社区",
    "pickCommunity": "请选择所属社区",
    "keepMasked": "不修改请留空",
    "title": "区划与目录",
    "new": "新建{kind}",
    "search": {
      "shop": "名称或电话后四位",
      "tag": "名称或编码",
      "other": "名称"
    },
    "col": {
      "name": "名称",
      "code": "编码",
      "communities": "社区数",
      "street": "所属街道",
      "address": "地址",
      "grids": "网格数",
      "residents": "居民数",
      "kind": "类型",
      "status": "状态",
      "owner": "经营者",
      "phone": "电话",
      "category": "类别",
      "rule": "规则",
      "sort": "排序"
    }
  }
}
