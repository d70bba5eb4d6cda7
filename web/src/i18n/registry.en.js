// 区划与目录 and the registry editing dialogs (issue 19): kinds, fields, options and messages of
// web/src/views/registry/kinds.js, the dialog and the page.
export default {
  "reg": {
    "o": {
      "old": "Old estate",
      "commercial": "Commercial estate",
      "unit": "Work-unit housing",
      "other": "Other",
      "shop": "Shop",
      "restaurant": "Restaurant",
      "market_stall": "Night-market stall",
      "service": "Everyday services",
      "open": "Open",
      "closed": "Closed",
      "care": "Care",
      "identity": "Identity",
      "work": "Work",
      "registered": "Registered",
      "resident": "Resident",
      "floating": "Floating"
    },
    "k": {
      "street": "Street",
      "community": "Community",
      "grid": "Grid",
      "estate": "Estate",
      "building": "Building",
      "room": "Room",
      "shop": "Shop",
      "tag": "Tag",
      "household": "Household"
    },
    "f": {
      "name": "Name",
      "code": "Code",
      "street_id": "Street",
      "address": "Address",
      "phone": "Phone",
      "description": "Description",
      "kind": "Type",
      "grid_id": "Grid",
      "built_year": "Year built",
      "property_company": "Property company",
      "estate_id": "Estate",
      "floors": "Floors",
      "units": "Units",
      "has_elevator": "Lift",
      "unit": "Unit",
      "number": "Room number",
      "floor": "Floor",
      "area": "Area (m²)",
      "status": "Status",
      "owner_name": "Owner",
      "license_no": "Business licence no.",
      "category": "Category",
      "rule": "Rule",
      "sort": "Order",
      "number_householdnum": "Household number",
      "kind_householdtyp": "Household type",
      "room_id": "Room",
      "head_resident_id": "Head of household",
      "notes": "Notes"
    },
    "msg": {
      "phone": "The phone number is not valid",
      "tagCode": "A tag code starts with a lower-case letter and has 2 to 32 lower-case letters, digits or underscores",
      "required": "Please fill in {label}",
      "tooLong": "{label}: at most {max} characters",
      "int": "{label} must be a whole number",
      "number": "{label} must be a number",
      "range": "{label} must be between {min} and {max}"
    },
    "ph": {
      "rule": "e.g. age>=80 (empty: a tag set by hand)",
      "gridHint": "With a room, the grid of the room's building"
    },
    "newTitle": "New {kind}",
    "editTitle": "Edit {kind}",
    "created": "{kind} created",
    "saved": "Saved",
    "community": "Community",
    "pickCommunity": "Please choose the community",
    "keepMasked": "Leave empty to keep it",
    "title": "Areas and catalogues",
    "new": "New {kind}",
    "search": {
      "shop": "Name or last 4 digits of the phone",
      "tag": "Name or code",
      "other": "Name"
    },
    "col": {
      "name": "Name",
      "code": "Code",
      "communities": "Communities",
      "street": "Street",
      "address": "Address",
      "grids": "Grids",
      "residents": "Residents",
      "kind": "Type",
      "status": "Status",
      "owner": "Owner",
      "phone": "Phone",
      "category": "Category",
      "rule": "Rule",
      "sort": "Order"
    }
  }
}
