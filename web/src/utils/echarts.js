// ECharts, core build with only what the dashboard draws: bar charts on a grid with tooltip and
// legend, canvas renderer. Imported only by the dashboard's chunk.
import * as echarts from 'echarts/core'
import { BarChart } from 'echarts/charts'
import { GridComponent, TooltipComponent, LegendComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([BarChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer])
export default echarts
