// ECharts, core build with only what the pages draw: bar charts (dashboards) and line charts with
// marked bands (wristband health data) on a grid with tooltip and legend, canvas renderer. Imported
// only by the chunks of pages with charts.
import * as echarts from 'echarts/core'
import { BarChart, LineChart } from 'echarts/charts'
import { GridComponent, TooltipComponent, LegendComponent, MarkLineComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([BarChart, LineChart, GridComponent, TooltipComponent, LegendComponent, MarkLineComponent, CanvasRenderer])
export default echarts
